/**
 * A verifier log as comparable from one load to the next: what differs between loads of the same object
 * (map addresses, the verification time, the object's name in its .rodata/.bss maps, which depends on how
 * the agent got the file) is replaced by placeholders. Used by the tests that check committed logs are
 * still what the kernel says.
 */
export function comparableLog(s: string): string {
  return s
    .replace(/0x[0-9a-f]{12,16}/g, 'ADDR')
    .replace(/verification time \d+ usec/, 'verification time N usec')
    .replace(/map=[\w.]{1,8}\.(rodata|bss|data|kconfig)/g, 'map=OBJ.$1');
}
