# servicedb-operator image: the operator binary plus the client tools its Jobs run
# (backup, restore, migrate). It cannot be built on our development machines (no Docker engine); see
# docs/deploy.md.

# ---- build
FROM debian:bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends \
      cmake ninja-build g++ pkg-config \
      libcpprest-dev libyaml-cpp-dev nlohmann-json3-dev libpq-dev libhiredis-dev libmongoc-dev libssl-dev \
      libspdlog-dev prometheus-cpp-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cmake -S . -B /build -G Ninja -DCMAKE_BUILD_TYPE=Release -DSERVICEDB_BUILD_TESTS=OFF \
    && cmake --build /build --target servicedb-operator

# ---- MongoDB's database tools
# mongodump/mongorestore are not packaged by Debian bookworm. The official mongo image carries MongoDB's
# database tools; they are static Go binaries, so they are copied from it as they are.
FROM docker.io/library/mongo:7 AS mongo-tools

# ---- runtime
FROM debian:bookworm-slim
# Runtime libraries, and the clients that backup, restore and migration Jobs call:
# pg_dump/pg_restore/psql (PostgreSQL 15 client), redis-cli, rclone (S3 streaming uploads),
# mongodump/mongorestore (from the stage above).
RUN apt-get update && apt-get install -y --no-install-recommends \
      libcpprest2.10 libyaml-cpp0.7 libpq5 libhiredis0.14 libmongoc-1.0-0 libssl3 libspdlog1.10 \
      libprometheus-cpp-core1.0 \
      postgresql-client-15 redis-tools rclone ca-certificates tzdata \
    && rm -rf /var/lib/apt/lists/*
COPY --from=mongo-tools /usr/bin/mongodump /usr/bin/mongorestore /usr/local/bin/
COPY --from=build /build/bin/servicedb-operator /usr/local/bin/servicedb-operator
# 65532 is the conventional "nonroot" user; the Deployment runs with a read-only root filesystem.
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/servicedb-operator"]
CMD ["run"]
