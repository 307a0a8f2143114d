// The online moderator's console: the same queue, the remote side in focus.
import { startConsole } from "/assets/app/console.js";
startConsole({ chair: false });
