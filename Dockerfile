# syntax=docker/dockerfile:1
#
# tickwire production image: Node 24 on Debian 13 (glibc 2.41; the uWebSockets.js v20.69 binary
# for Node 22/24 needs glibc >= 2.38, see docs/runtimes.md).
#
#   docker build -t tickwire .
#   docker run -p 8080:8080 --ulimit nofile=65536:65536 --stop-timeout 30 \
#     -e TICKWIRE_FEED_TOKEN=change-me tickwire [OPTIONS]
#
# scripts/ci/image-check.sh replays this file without Docker (CI has no Docker engine): it reads
# the instructions below and runs them in temporary folders, so keep to what it understands:
# ARG before the first FROM, FROM, WORKDIR, ENV, LABEL, COPY (no wildcards), RUN (relative
# paths only; --mount=type=cache only), USER, EXPOSE, HEALTHCHECK, STOPSIGNAL, and ENTRYPOINT
# and CMD in exec form.
#
# The tag pins Node's major and minor version; the patch release and Debian's security updates
# follow the tag. For a reproducible build pin the digest as well:
#   docker build --build-arg NODE_IMAGE=node:24.22-trixie-slim@sha256:<digest> .
ARG NODE_IMAGE=node:24.22-trixie-slim

# ---- Stage 1: build, pack, install production dependencies, prune ----
FROM ${NODE_IMAGE} AS build
WORKDIR /src

# The client SDK (clients/ts) is an npm workspace: its package.json is part of the install.
# --ignore-scripts: the root `prepare` (the build) needs the sources, copied below.
COPY package.json package-lock.json ./
COPY clients/ts/package.json clients/ts/
RUN --mount=type=cache,target=/root/.npm npm ci --ignore-scripts --no-audit --no-fund

# What `npm run build` reads (bench/ and test/ are not needed: no dist/bench in the image).
COPY LICENSE README.md CHANGELOG.md tsconfig.json tsconfig.build.json ./
COPY bin/ bin/
COPY src/ src/
COPY web/ web/
COPY scripts/build-web.mjs scripts/prune-runtime.mjs scripts/
COPY clients/ts/ clients/ts/

# `npm pack` runs prepack (empties dist/) and prepare (npm run build), then packs what
# package.json "files" names: the image holds exactly the npm package, unpacked into /app.
RUN npm pack --pack-destination .. \
  && mkdir ../app \
  && tar -xzf ../tickwire-*.tgz -C ../app --strip-components=1 --no-same-owner \
  && cp package-lock.json ../app/

# Production dependencies from the lockfile, for this image's Node, platform and glibc: npm
# installs only the uWebSockets.js binary package of the Node running it (@uwsjs/linux-x64-24).
# prune-runtime.mjs removes the other platforms' binaries that ride along in the uWebSockets.js
# package (113 MB) and checks the loader's binary against its pinned sha256.
WORKDIR /app
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
  && node ../src/scripts/prune-runtime.mjs

# ---- Stage 2: runtime ----
FROM ${NODE_IMAGE} AS runtime
LABEL org.opencontainers.image.title="tickwire" \
  org.opencontainers.image.description="WebSocket market-data server" \
  org.opencontainers.image.licenses="MIT"
WORKDIR /app
ENV NODE_ENV=production

# Owned by root, read-only for the server's user: the server writes no files.
COPY --from=build /app/ ./

USER node
EXPOSE 8080

# The health check follows TICKWIRE_PORT (default 8080): change the port with
# -e TICKWIRE_PORT=…, not with --port or a config file, which it cannot see. Keep the default
# host (0.0.0.0) or one that includes 127.0.0.1. Slim images have no curl: Node's fetch does the
# GET (/healthz: liveness; a node still catching up on NATS stays healthy, see /readyz).
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.TICKWIRE_PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"

# Descriptors: every connection is one, and an image cannot raise its own limit. At start
# tickwire raises its soft open-file limit to the hard one; if that is still below
# --max-connections (default 10000) plus 64, it lowers its connection limits to fit and says so
# on stderr. Give the container room: docker run --ulimit nofile=65536:65536 (Compose:
# `ulimits: {nofile: {soft: 65536, hard: 65536}}`; see docs/deploy.md, "Descriptor limits").
#
# Stopping: SIGTERM starts a graceful drain of up to --drain-timeout (10 s by default); Docker's
# default grace before SIGKILL is also 10 s, so give it more (docker run --stop-timeout 30,
# Compose `stop_grace_period: 30s`). Node runs as PID 1 and handles SIGTERM and SIGINT itself.
STOPSIGNAL SIGTERM

# The server itself, never npm (npm would receive the signals and the exit code would be npm's).
# Arguments after the image name are tickwire options: docker run … tickwire --demo
ENTRYPOINT ["node", "/app/bin/tickwire.js"]
