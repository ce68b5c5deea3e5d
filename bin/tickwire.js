#!/usr/bin/env node
// The `tickwire` command: runs the compiled server (dist/src/main.js) in this very
// process, not as a child, so SIGTERM/SIGINT from a process manager reach the server,
// which drains and exits. Kept outside dist/ so npm can link it before the build.
import '../dist/src/main.js';
