/** Every restricted-C rule, one file each, in the order of the list. Add a rule here to turn it on. */
import type { Rule } from '../rule';
import { coreFieldRule } from './core-field';
import { ctxArrayIndexRule } from './ctx-array-index';
import { ctxWriteRule } from './ctx-write';
import { floatingPointRule } from './floating-point';
import { helperAttachPointRule } from './helper-attach-point';
import { helperArgTypeRule } from './helper-arg-type';
import { btfPtrWriteRule } from './btf-ptr-write';
import { returnRangeRule } from './return-range';
import { ctxReadRule } from './ctx-read';
import { globalFuncArgRule } from './global-func-arg';
import { helperMemSizeRule } from './helper-mem-size';
import { helperNotAllowedRule } from './helper-not-allowed';
import { kfuncSectionRule } from './kfunc-section';
import { kfuncTrustedArgsRule } from './kfunc-trusted-args';
import { licenseRule } from './license';
import { mapValueIndexRule } from './map-value-index';
import { nullCheckRule } from './null-check';
import { packetBoundsRule } from './packet-bounds';
import { printkArgsRule } from './printk-args';
import { rodataWriteRule } from './rodata-write';
import { ringbufReserveSizeRule } from './ringbuf-reserve-size';
import { scalarDerefRule } from './scalar-deref';
import { sectionRule } from './section';
import { sleepableCallRule } from './sleepable-call';
import { stackSizeRule } from './stack-size';
import { stalePacketPointerRule } from './stale-packet-pointer';
import { tpBtfArgsRule } from './tp-btf-args';
import { unboundedLoopRule } from './unbounded-loop';
import { uninitializedRule } from './uninitialized';
import { unreleasedReferenceRule } from './unreleased-reference';
import { unsupportedCallRule } from './unsupported-call';
import { wrongMapTypeRule } from './wrong-map-type';

export const ALL_RULES: readonly Rule[] = [
  nullCheckRule,
  packetBoundsRule,
  stackSizeRule,
  unboundedLoopRule,
  unsupportedCallRule,
  floatingPointRule,
  licenseRule,
  sectionRule,
  helperNotAllowedRule,
  unreleasedReferenceRule,
  printkArgsRule,
  sleepableCallRule,
  scalarDerefRule,
  ctxWriteRule,
  mapValueIndexRule,
  tpBtfArgsRule,
  uninitializedRule,
  kfuncTrustedArgsRule,
  wrongMapTypeRule,
  ringbufReserveSizeRule,
  helperMemSizeRule,
  stalePacketPointerRule,
  kfuncSectionRule,
  rodataWriteRule,
  ctxArrayIndexRule,
  helperAttachPointRule,
  globalFuncArgRule,
  helperArgTypeRule,
  btfPtrWriteRule,
  returnRangeRule,
  coreFieldRule,
  ctxReadRule,
];
