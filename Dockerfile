# The runner-metrics collector. Build: docker build -t runner-metrics .
# Run:   docker run --rm -p 127.0.0.1:9464:9464 -e LLAMACPP_BASE_URL=http://host.docker.internal:8080 \
#          --add-host host.docker.internal:host-gateway runner-metrics
# (compose.yaml runs it beside Prometheus and Grafana.)

FROM node:22-bookworm-slim AS build
WORKDIR /app
# Dependencies first, so a change of the sources reuses this layer. Scripts are
# skipped here: `prepare` would build before the sources are copied.
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev --ignore-scripts

FROM node:22-bookworm-slim
ENV NODE_ENV=production \
    # Listen on every interface of the container (the configs default to 127.0.0.1);
    # publish the port on the host's loopback only (compose.yaml does).
    METRICS_ADDR=0.0.0.0:9464
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist/src ./dist/src
COPY package.json otel-config.yaml otel-config.schema.json ./
COPY pipelines ./pipelines
# The image's own unprivileged user (uid 1000), never root.
USER node
EXPOSE 9464
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "--max-semi-space-size=4", "dist/src/cli.js"]
CMD ["--config", "otel-config.yaml"]
