#!/usr/bin/env node
// The `tickwire-replay` command: runs the compiled tool (dist/src/tools/replay-main.js) in this
// process. Kept outside dist/ so npm can link it before the build.
import '../dist/src/tools/replay-main.js';
