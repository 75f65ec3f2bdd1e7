/**
 * Imported first by the extension and the CLI: zod without its JIT. The JIT probes `new Function`
 * and `navigator` when the first object schema is built, which VS Code's extension host flags as a
 * deprecated global access (and which strict CSPs report); validation of agent lines is fast enough
 * without it.
 */
import { z } from 'zod';

z.config({ jitless: true });
