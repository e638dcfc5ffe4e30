# syntax=docker/dockerfile:1
#
# mx_exporter container image: a static binary on distroless/static (CA
# certificates and /etc/passwd, nothing else), running as nobody (65534).
#
#   docker build -t mx_exporter \
#     --build-arg VERSION=$(cat VERSION) \
#     --build-arg REVISION=$(git rev-parse HEAD) \
#     --build-arg BRANCH=$(git rev-parse --abbrev-ref HEAD) \
#     --build-arg BUILD_DATE=$(date -u +%Y%m%d-%H:%M:%S) .
#   docker run -d -p 9725:9725 \
#     -v "$PWD/mx_exporter.yml:/etc/mx_exporter/mx_exporter.yml:ro" mx_exporter
#
# The image's own /etc/mx_exporter/mx_exporter.yml (deploy/docker/) has no
# targets: mount yours over it (deploy/examples/mx_exporter.yml is a start).
# Reload after editing it: docker kill --signal=HUP CONTAINER.

FROM golang:1.26-bookworm AS build
WORKDIR /src
# Module downloads get their own layer, rebuilt only when go.mod/go.sum change.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ARG REVISION=unknown
ARG BRANCH=unknown
ARG BUILD_USER=docker
ARG BUILD_DATE=unknown
ENV CGO_ENABLED=0
RUN go build -trimpath -buildvcs=false \
      -ldflags "-s -w \
        -X github.com/prometheus/common/version.Version=${VERSION} \
        -X github.com/prometheus/common/version.Revision=${REVISION} \
        -X github.com/prometheus/common/version.Branch=${BRANCH} \
        -X github.com/prometheus/common/version.BuildUser=${BUILD_USER} \
        -X github.com/prometheus/common/version.BuildDate=${BUILD_DATE}" \
      -o /out/mx_exporter ./cmd/mx_exporter

FROM gcr.io/distroless/static-debian12
COPY --from=build /out/mx_exporter /bin/mx_exporter
COPY deploy/docker/mx_exporter.yml /etc/mx_exporter/mx_exporter.yml
USER 65534:65534
EXPOSE 9725
ENTRYPOINT ["/bin/mx_exporter"]
CMD ["--config.file=/etc/mx_exporter/mx_exporter.yml"]
