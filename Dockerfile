# Multi-stage build: the Swift toolchain image builds, a slim Debian image runs.
FROM swift:6.2-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends libssl-dev libargon2-dev libsqlite3-dev libqrencode-dev pkg-config \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Package.swift ./
COPY Sources ./Sources
COPY Tests ./Tests
RUN swift build -c release --product portcullis --static-swift-stdlib \
    && cp "$(swift build -c release --show-bin-path)/portcullis" /portcullis

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends libssl3 libargon2-1 libsqlite3-0 libqrencode4 ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home /var/lib/portcullis --create-home portcullis
COPY --from=build /portcullis /usr/local/bin/portcullis
COPY Policies /etc/portcullis/Policies
USER portcullis
WORKDIR /var/lib/portcullis
ENV PORTCULLIS_HOST=0.0.0.0 \
    PORTCULLIS_PORT=8080 \
    PORTCULLIS_DB=/var/lib/portcullis/data/portcullis.db \
    PORTCULLIS_KEYS=/var/lib/portcullis/Keys \
    PORTCULLIS_POLICIES=/etc/portcullis/Policies
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --retries=3 CMD curl -fsS http://127.0.0.1:8080/healthz || exit 1
ENTRYPOINT ["portcullis"]
CMD ["serve"]
