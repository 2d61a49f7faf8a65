# Multi-stage build: the Swift toolchain image builds, a slim Debian image runs.
# docs/DEPLOYMENT.md describes the image; Tests/interop/test_packaging.py checks that every
# target directory Package.swift names is copied into the build stage below.
FROM swift:6.3-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends libssl-dev libargon2-dev libsqlite3-dev libqrencode-dev pkg-config \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# SwiftPM loads every declared target, test and fuzz targets included, even to build one product:
# each directory Package.swift names must be here.
COPY Package.swift ./
COPY Sources ./Sources
COPY Tests ./Tests
COPY Fuzz ./Fuzz
COPY Benchmarks ./Benchmarks
RUN swift build -c release --product portcullis --static-swift-stdlib --explicit-target-dependency-import-check=error \
    && cp "$(swift build -c release --show-bin-path)/portcullis" /portcullis

FROM debian:bookworm-slim
# A fixed uid/gid so bind-mounted data and key directories can be chowned to it (10001:10001).
RUN apt-get update && apt-get install -y --no-install-recommends libssl3 libargon2-1 libsqlite3-0 libqrencode4 ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 portcullis \
    && useradd --system --uid 10001 --gid portcullis --home-dir /var/lib/portcullis --shell /usr/sbin/nologin portcullis \
    && mkdir -p /var/lib/portcullis/data /var/lib/portcullis/Keys \
    && chown -R portcullis:portcullis /var/lib/portcullis \
    && chmod 0700 /var/lib/portcullis/data /var/lib/portcullis/Keys
COPY --from=build /portcullis /usr/local/bin/portcullis
COPY Policies /etc/portcullis/Policies
ENV PORTCULLIS_HOST=0.0.0.0 \
    PORTCULLIS_PORT=8080 \
    PORTCULLIS_DB=/var/lib/portcullis/data/portcullis.db \
    PORTCULLIS_KEYS=/var/lib/portcullis/Keys \
    PORTCULLIS_POLICIES=/etc/portcullis/Policies
# Declared after the directories are made and chowned, so a new named volume starts owned by portcullis.
VOLUME ["/var/lib/portcullis/data", "/var/lib/portcullis/Keys"]
USER portcullis:portcullis
WORKDIR /var/lib/portcullis
EXPOSE 8080
# The one health check: docker-compose.yml defines none and inherits this one (shell form, so a
# PORTCULLIS_PORT set at run time is the port probed).
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
    CMD curl -fsS "http://127.0.0.1:${PORTCULLIS_PORT:-8080}/healthz" || exit 1
ENTRYPOINT ["portcullis"]
CMD ["serve"]
