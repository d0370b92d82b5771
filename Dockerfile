# syntax=docker/dockerfile:1
# The virtualize gateway: compiled once at build time, run as `virtualize start` (production mode).
# Build:  docker build -t virtualize:0.1.0 .
# Run:    see the README, "Deploy" (compose.yaml, deploy/kubernetes/).

ARG NODE_IMAGE=node:22-bookworm-slim

# 1. Compile TypeScript with every dependency (tsc is a devDependency).
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` would compile before the sources are copied.
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json virtualization.config.ts ./
COPY src ./src
COPY sources ./sources
COPY bench ./bench
RUN npm run build

# 2. Production dependencies only, resolved from the same lock file.
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force

# 3. The runtime image: compiled code, production node_modules, the files the configuration reads.
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=4000 \
    VIRTUALIZE_REGISTRY_DIR=/var/lib/virtualize
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY bin ./bin
COPY schema ./schema
COPY sources/orders/crosswalk.csv ./sources/orders/crosswalk.csv
COPY deploy/virtualization.config.js ./deploy/virtualization.config.js
# The embedded registry store (used only when DATABASE_URL is unset) is the one writable path.
RUN mkdir -p /var/lib/virtualize && chown node:node /var/lib/virtualize
# The official image's unprivileged user (uid 1000); nothing under /app is writable by it.
USER node
EXPOSE 4000
# Liveness as the orchestrators see it, with Node's own fetch (the slim image has no curl).
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 4000) + '/healthz', { signal: AbortSignal.timeout(2000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# SIGTERM is what `docker stop` and Kubernetes send; the CLI handles it by draining (README, "Deploy").
STOPSIGNAL SIGTERM
# Exec form, no shell and no npm in between: node is PID 1 and receives SIGTERM itself.
ENTRYPOINT ["node", "bin/virtualize.js"]
CMD ["start", "--config", "deploy/virtualization.config.js"]
