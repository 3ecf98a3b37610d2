# fleet-handshake operator image.
#
#   docker build -t fleet-handshake:0.1.0 .
#
# Build stage: Debian bookworm with exactly the packages
# scripts/install-deps.sh lists for building (`--build`), then exactly what
# `make` runs (VARIANT=rel all).
# Runtime stage: bookworm-slim plus the packages that provide the shared
# libraries the binaries link (libc and friends are in the base image) and
# ca-certificates; the binaries in /usr/local/bin; runs as 65532:65532.
# tests/helm/test_dockerfile.py checks all of this against the Makefile,
# scripts/install-deps.sh, ldd/dpkg and the Helm chart.

FROM debian:bookworm AS build
WORKDIR /src
COPY scripts/install-deps.sh scripts/install-deps.sh
RUN bash scripts/install-deps.sh --build && rm -rf /var/lib/apt/lists/*
COPY . .
RUN make VARIANT=rel all

FROM debian:bookworm-slim
ARG VERSION=0.1.0
ARG SOURCE_URL=https://github.com/rptcloud/fleet-handshake
LABEL org.opencontainers.image.title="fleet-handshake" \
      org.opencontainers.image.description="Kubernetes operator that distributes Secrets to Fleet downstream clusters through Fleet Bundles" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.source="${SOURCE_URL}" \
      org.opencontainers.image.base.name="docker.io/library/debian:bookworm-slim"
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      ca-certificates \
      libcjson1 \
      libcurl4 \
      libmsgpackc2 \
      libssl3 \
      libyaml-0-2 \
      libzmq5 \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/build/rel/bin/ /usr/local/bin/
USER 65532:65532
# /healthz and /readyz (--health-probe-bind-address, default :8081)
EXPOSE 8081
ENTRYPOINT ["/usr/local/bin/fh-supervisor"]
