# syntax=docker/dockerfile:1
# The build-hook image: Node LTS, production dependencies only, the docker CLI and its buildx plugin
# from their official images, git, tini, a non-root user. Probes come from Kubernetes (no HEALTHCHECK).

FROM docker:28.2-cli AS docker-cli
FROM docker/buildx-bin:0.28.0 AS buildx

FROM node:22-bookworm-slim AS build
# better-sqlite3 compiles from source when no prebuilt binary fits.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY app.ts serve.ts server.ts ./
COPY bin ./bin
COPY lib ./lib
COPY plugins ./plugins
COPY routes ./routes
# npm ci builds dist/ (prepare), the server's V8 code cache included; then the dev dependencies go.
RUN npm ci --no-audit --no-fund && npm prune --omit=dev

# The same Node.js as the build stage: the code cache written there fits only the V8 that wrote it.
FROM node:22-bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends git ca-certificates tini && rm -rf /var/lib/apt/lists/* \
  && useradd --uid 10001 --user-group --create-home --home-dir /home/build-hook build-hook
COPY --from=docker-cli /usr/local/bin/docker /usr/local/bin/docker
COPY --from=buildx /buildx /usr/local/libexec/docker/cli-plugins/docker-buildx
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# The command-line client on PATH: docker run --rm -e HOOK_URL -e HOOK_TOKEN <image> build-hook builds
RUN chmod 755 dist/bin/build-hook.js && ln -s /app/dist/bin/build-hook.js /usr/local/bin/build-hook
# The dashboard (GET /ui/): plain files served as they are, next to dist/ (routes/ui.ts finds <app>/ui).
COPY ui ./ui
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    CONFIG_PATH=/etc/build-hook/config.toml \
    DATA_DIR=/data \
    HOME=/home/build-hook \
    DOCKER_CONFIG=/home/build-hook/.docker
USER 10001:10001
EXPOSE 3000
# The hook is not PID 1: tini is, and reaps orphans (a docker child whose parent died) and forwards
# SIGTERM to the server. node directly, not npm, so that the signal reaches the server.
# No V8 heap flags: Node sizes the heap from the container's memory limit (the kit's 512Mi gives 1 MB
# semi-spaces; --max-semi-space-size=8 would raise that: bench/results.md, step 14).
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "dist/server.js"]
