# syntax=docker/dockerfile:1
# The Tycho server image: `tycho api` (and the rest of the CLI) on a distroless base, non-root.
#   docker build -t tycho:latest .
# The dashboard is optional: build it first (trunk build --release → dist/) and the server serves
# it from /app/dist; without it `/` says the dashboard is not built and the API works as usual.

FROM rust:1.95-bookworm AS builder
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p tycho-cli --bin tycho \
    && install -D -m 0755 target/release/tycho /out/tycho \
    && mkdir -p /out/dist \
    && if [ -f dist/index.html ]; then cp -r dist/. /out/dist/; fi

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=builder /out/tycho /usr/local/bin/tycho
COPY --from=builder /out/dist /app/dist
WORKDIR /app
# distroless "nonroot": uid/gid 65532, matching kubernetes/deployment.yaml.
USER 65532:65532
EXPOSE 8099
ENV TYCHO_LISTEN=0.0.0.0:8099
ENTRYPOINT ["/usr/local/bin/tycho"]
CMD ["api", "--dist", "/app/dist"]
