/** Every restricted-C rule, one file each. Add a rule here to turn it on. */
import type { Rule } from '../rule';
import { licenseRule } from './license';
import { nullCheckRule } from './null-check';
import { packetBoundsRule } from './packet-bounds';
import { unreleasedReferenceRule } from './unreleased-reference';

export const ALL_RULES: readonly Rule[] = [nullCheckRule, packetBoundsRule, licenseRule, unreleasedReferenceRule];
