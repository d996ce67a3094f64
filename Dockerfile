# sfpermits — ONE image holding every binary (sfp-gateway, sfp-report, sfp-brief, sfp-cron,
# sfp-health, sfp-cronctl, sfp-migrate, sfp-seed); each Kubernetes workload picks its binary
# with `command:`. Why one image and not one per service: k8s/README.md, "Image".
#
# Build and run it with a Docker engine, or without one (buildah; base images made locally with
# debootstrap where no registry answers) through scripts/image:
#   docker build -t sfpermits:VERSION .            scripts/image build
#   docker run --rm sfpermits:VERSION sfp-migrate --help
#                                                  scripts/image run -- sfp-migrate --help
# CI builds it and runs the whole suite from it (ctest -L image, tests/image/); k8s/validate
# checks the manifests against the built image (user id, installed binaries) when that ran,
# else against this file's text (USER, ENV, SFP_BINARIES).
#
# The build steps are CI's own: scripts/bootstrap --build installs the build half of the Debian
# 12 package list CI uses, then the same cmake configure/build as scripts/dev (SFP_WERROR=ON;
# Release instead of CI's RelWithDebInfo: no debug info in the image), then the unit tests
# (ctest -L unit; the integration and e2e suites need a Postgres and run in CI).

# ---- build: the CI toolchain ---------------------------------------------------------------
FROM debian:12 AS build
ENV DEBIAN_FRONTEND=noninteractive
WORKDIR /src
# bootstrap alone first, so the package layer is cached across source changes.
COPY scripts/bootstrap scripts/bootstrap
RUN scripts/bootstrap --build && rm -rf /var/lib/apt/lists/*
COPY . .
RUN cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DSFP_WERROR=ON \
 && cmake --build build -j"$(nproc)" \
 && ctest --test-dir build -L unit --output-on-failure -j"$(nproc)"
# The binaries the image ships (k8s/validate checks every manifest's command is one of them).
ARG SFP_BINARIES="sfp-gateway sfp-report sfp-brief sfp-cron sfp-health sfp-cronctl sfp-migrate sfp-seed"
RUN mkdir -p /out/bin \
 && for b in $SFP_BINARIES; do install -m 0755 -s "build/bin/$b" "/out/bin/$b"; done

# ---- runtime: shared libraries only --------------------------------------------------------
FROM debian:12-slim AS runtime
# The runtime halves of the -dev packages scripts/bootstrap installs (Debian 12 names), plus
# ca-certificates (HTTPS to DataSF) and tzdata (TZ below).
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libgrpc29 libprotobuf-c1 libpq5 libcurl4 libcjson1 libmicrohttpd12 libssl3 libxxhash0 \
      ca-certificates tzdata \
 && apt-get clean \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/* /var/log/apt/* /var/log/dpkg.log \
 && groupadd --system --gid 10001 sfp \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin sfp
COPY --from=build /out/bin/ /usr/local/bin/
# "Today" of reports and briefs is the San Francisco calendar day (localtime_r).
ENV TZ=America/Los_Angeles
# Prometheus /metrics of every process (the port the pods expose and annotate).
ENV METRICS_ADDR=0.0.0.0:9464
USER 10001:10001
# gateway 8080; report, brief, cron, health 50051-50054; metrics 9464.
EXPOSE 8080 50051 50052 50053 50054 9464
# No ENTRYPOINT: the workload names its binary. The default runs the gateway.
CMD ["sfp-gateway"]
