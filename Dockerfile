# One image for every process: `wingman up | control | proxy | sidecar | migrate | validate`.
# Build stage has the compilers; the final stage has node, the compiled JS, production node_modules and migrations only.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-fund --no-audit --ignore-scripts
COPY tsconfig.json ./
COPY core core
COPY proxy proxy
COPY control control
COPY sidecar sidecar
COPY validation validation
COPY cli cli
COPY bench bench
COPY console console
COPY scripts/build.mjs scripts/build.mjs
# dist/ holds the compiled JS and the built console (dist/console, served at GET /).
RUN node scripts/build.mjs && npm prune --omit=dev --ignore-scripts

FROM node:20-bookworm-slim
# No curl, pip or compilers here; drop the package manager caches the base image keeps.
RUN rm -rf /usr/local/lib/node_modules/npm /usr/local/bin/npm /usr/local/bin/npx /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 wingman && useradd --system --uid 10001 --gid wingman --home /var/lib/wingman wingman \
 && mkdir -p /var/lib/wingman && chown wingman:wingman /var/lib/wingman
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/dist dist
COPY bin bin
COPY migrations migrations
COPY shell-wrapper shell-wrapper
ENV NODE_ENV=production WINGMAN_DATA_DIR=/var/lib/wingman WINGMAN_HOST=0.0.0.0
USER wingman
EXPOSE 5001
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.WINGMAN_PORT||5001)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["node", "--max-semi-space-size=64", "bin/wingman.js"]
CMD ["up"]
