#!/usr/bin/env node
// The `tickwire-record` command: runs the compiled tool (dist/src/tools/record-main.js) in this
// process, so SIGINT/SIGTERM reach it and it closes its journal. Kept outside dist/ so npm can
// link it before the build.
import '../dist/src/tools/record-main.js';
