#!/usr/bin/env node
// Launcher for the compiled CLI (kept outside dist/ so npm can link it before the build).
import '../dist/clients/ts/src/bin/tickwire-feed.js';
