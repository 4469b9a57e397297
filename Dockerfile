# servicedb-operator image: the operator binary plus the client tools its Jobs run
# (backup, restore, migrate). It cannot be built on our development machines (no Docker engine); see
# docs/deploy.md.

# ---- build
FROM debian:bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends \
      cmake ninja-build g++ pkg-config \
      libcpprest-dev libyaml-cpp-dev nlohmann-json3-dev libpq-dev libhiredis-dev libmongoc-dev libssl-dev \
      libspdlog-dev prometheus-cpp-dev libgtest-dev libgmock-dev googletest \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cmake -S . -B /build -G Ninja -DCMAKE_BUILD_TYPE=Release \
    && cmake --build /build --target servicedb-operator

# ---- runtime
FROM debian:bookworm-slim
# Runtime libraries, and the clients that backup, restore and migration Jobs call:
# pg_dump/pg_restore/psql (PostgreSQL 15 client), redis-cli, rclone (S3 streaming uploads).
# mongodump/mongorestore (MongoDB's database tools) are not packaged by Debian bookworm and are NOT in
# this image: MongoDB backup/restore Jobs need an image that adds them (docs/deploy.md).
RUN apt-get update && apt-get install -y --no-install-recommends \
      libcpprest2.10 libyaml-cpp0.7 libpq5 libhiredis0.14 libmongoc-1.0-0 libssl3 libspdlog1.10 \
      libprometheus-cpp-core1.0 \
      postgresql-client-15 redis-tools rclone ca-certificates tzdata \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /build/bin/servicedb-operator /usr/local/bin/servicedb-operator
# 65532 is the conventional "nonroot" user; the Deployment runs with a read-only root filesystem.
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/servicedb-operator"]
CMD ["run"]
