# Samtycke — production image. Multi-stage: compile TypeScript, then a slim runtime with production
# dependencies only, running as a non-root user, in production mode by default. Node 22 LTS: Node 20 is past
# its end of life (development and CI may still use 20.19+, see README).
FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY migrations ./migrations
RUN npm run build

FROM node:22-bookworm-slim AS runtime
ENV NODE_ENV=production \
    SAMTYCKE_ENV=production \
    PORT=3000 \
    HOST=0.0.0.0
# The JavaScript heap's limit. Without one, V8 sizes it from the host's memory (a quarter, up to 4 GB) and
# lets garbage pile up to ~200 MB between collections, while the live heap under the soak's load is 50–60
# MB; with it, V8 collects sooner and the RSS stays near 180 MB (issue 15, `npm run bench soak` runs the
# service with this line). Raise it with the container's memory if need be.
ENV NODE_OPTIONS=--max-old-space-size=512
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: the only install script is the embedded PostgreSQL's, which production never uses.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY templates ./templates
# certs-dev/ is deliberately not copied: production mounts its own signing CA (SIGNING_CA_*).
RUN useradd --system --uid 10001 --home /app samtycke && chown -R samtycke /app/templates
USER samtycke
EXPOSE 3000
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/health/ready').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "dist/src/server.js"]
