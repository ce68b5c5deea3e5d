# syntax=docker/dockerfile:1

# ---- Stage 1: build (dev dependencies + TypeScript compile) ----
FROM node:20-bookworm-slim AS build
WORKDIR /app

# The client SDK (clients/ts) is an npm workspace: its package.json is part of
# the install. Scripts are skipped here (the root `prepare` would build before
# the sources are copied); the build runs below.
COPY package.json package-lock.json ./
COPY clients/ts/package.json ./clients/ts/
RUN npm ci --ignore-scripts

COPY tsconfig*.json ./
COPY src/ ./src/
COPY bench/ ./bench/
COPY clients/ts/ ./clients/ts/
COPY web/ ./web/
COPY scripts/ ./scripts/
RUN npm run build

# ---- Stage 2: runtime (production dependencies only) ----
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production

COPY package*.json ./
COPY clients/ts/package.json ./clients/ts/
# --ignore-scripts: the root `prepare` (a build) needs dev dependencies.
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force

COPY --from=build /app/dist ./dist

USER node
EXPOSE 8080

# Slim images have no curl; use Node's global fetch.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:8080/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"

# Every connection is a file descriptor, and an image cannot set its own limit.
# At start tickwire raises its soft open-file limit to the hard one; if that is
# still below --max-connections (default 10000) plus 64, it lowers its
# connection limits to fit and says so in one line on stderr. Give the
# container room: docker run --ulimit nofile=65536:65536 ... (compose:
# `ulimits: {nofile: {soft: 65536, hard: 65536}}`; see docs/reliability.md).
CMD ["node", "dist/src/main.js"]
