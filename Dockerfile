# fleet-handshake operator image.
#
#   docker build -t fleet-handshake:0.1.0 .
#
# Build stage: Debian bookworm with exactly the packages
# scripts/install-deps.sh lists for building (`--build`), then exactly what
# `make` runs (VARIANT=rel all).
# Runtime stage: bookworm-slim plus exactly the packages that provide every
# shared library `ldd` reports for the four binaries, and ca-certificates;
# the binaries in /usr/local/bin; runs as 65532:65532.
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
# The install list: every library `ldd build/rel/bin/*` resolves (the
# dynamic loader included), mapped to its package with `dpkg -S` (either
# spelling of merged-usr paths, /lib or /usr/lib), sorted, one per line;
# plus ca-certificates, the one package no binary links: TLS to an apiserver
# whose certificate is publicly signed, with no CA in the kubeconfig.
# Packages bookworm-slim already has are listed too, so the image does not
# depend on what the base happens to hold. tests/helm/test_dockerfile.py
# derives the same set from the built binaries and fails on any difference.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      ca-certificates \
      libbrotli1 \
      libbsd0 \
      libc6 \
      libcjson1 \
      libcom-err2 \
      libcurl4 \
      libffi8 \
      libgcc-s1 \
      libgmp10 \
      libgnutls30 \
      libgssapi-krb5-2 \
      libhogweed6 \
      libidn2-0 \
      libk5crypto3 \
      libkeyutils1 \
      libkrb5-3 \
      libkrb5support0 \
      libldap-2.5-0 \
      libmd0 \
      libmsgpackc2 \
      libnettle8 \
      libnghttp2-14 \
      libnorm1 \
      libp11-kit0 \
      libpgm-5.3-0 \
      libpsl5 \
      librtmp1 \
      libsasl2-2 \
      libsodium23 \
      libssh2-1 \
      libssl3 \
      libstdc++6 \
      libtasn1-6 \
      libunistring2 \
      libyaml-0-2 \
      libzmq5 \
      libzstd1 \
      zlib1g \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/build/rel/bin/ /usr/local/bin/
USER 65532:65532
# /healthz and /readyz (--health-probe-bind-address, default :8081)
EXPOSE 8081
ENTRYPOINT ["/usr/local/bin/fh-supervisor"]
