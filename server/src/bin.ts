/** dist/server.js: the language server started by the extension (transport flags on the command line). */
import { main } from './main';

main();
