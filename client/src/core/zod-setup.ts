/**
 * zod, configured before any schema is built: every module that defines schemas imports `z` from here.
 * Without its JIT: the JIT probes `new Function` and `navigator` when the first object schema is built,
 * which VS Code's extension host flags as a deprecated global access (and which strict CSPs report);
 * validation of agent lines is fast enough without it. Importing zod only through here also keeps it
 * (444 KB) out of activation: it loads when a target connects or a template is created.
 */
import { z } from 'zod';

z.config({ jitless: true });

export { z };
