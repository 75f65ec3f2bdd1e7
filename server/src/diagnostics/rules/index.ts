/** Every restricted-C rule, one file each, in the order of the list. Add a rule here to turn it on. */
import type { Rule } from '../rule';
import { floatingPointRule } from './floating-point';
import { helperNotAllowedRule } from './helper-not-allowed';
import { licenseRule } from './license';
import { nullCheckRule } from './null-check';
import { packetBoundsRule } from './packet-bounds';
import { printkArgsRule } from './printk-args';
import { sectionRule } from './section';
import { stackSizeRule } from './stack-size';
import { unboundedLoopRule } from './unbounded-loop';
import { unreleasedReferenceRule } from './unreleased-reference';
import { unsupportedCallRule } from './unsupported-call';

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
];
