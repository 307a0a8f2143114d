// The chair's console.
import { startConsole } from "/assets/app/console.js";
startConsole({ chair: true });
