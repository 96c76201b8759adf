# syntax=docker/dockerfile:1
# Two images from one file, each for linux/amd64 and linux/arm64 (README: Install on a cluster):
#   server (the default target):  docker buildx build --platform linux/amd64,linux/arm64 -t REPO:TAG --push .
#   init (node interception):     docker buildx build --platform linux/amd64,linux/arm64 --target init -t REPO:TAG-init --push .
# The plugin stage runs on each target platform: a builder of one architecture needs QEMU emulation for the other
# (Docker Desktop has it; elsewhere `docker run --privileged --rm tonistiigi/binfmt --install arm64,amd64` once).

ARG DOTNET_VERSION=10.0

# ---- build: runs on the builder's own platform; the apphost, the runtime and the ReadyToRun code (crossgen2 targets
# either) differ between target architectures. Self-contained and trimmed (README: Memory): about 20 MiB less resident
# on every node than the shared framework, for about 0.4 s more CPU at start.
FROM --platform=$BUILDPLATFORM mcr.microsoft.com/dotnet/sdk:${DOTNET_VERSION} AS build
ARG TARGETARCH
WORKDIR /src
COPY global.json Directory.Build.props Directory.Packages.props .editorconfig ./
COPY src/MetadataProxy/MetadataProxy.csproj src/MetadataProxy/
# -a takes Docker's names (amd64, arm64) and means the linux-x64 / linux-arm64 runtime identifiers.
RUN --mount=type=cache,id=nuget,target=/root/.nuget/packages \
    dotnet restore src/MetadataProxy --os linux -a "$TARGETARCH" -p:SelfContained=true -p:PublishTrimmed=true
COPY src/MetadataProxy/ src/MetadataProxy/
RUN --mount=type=cache,id=nuget,target=/root/.nuget/packages \
    dotnet publish src/MetadataProxy -c Release --os linux -a "$TARGETARCH" --self-contained true -p:PublishTrimmed=true --no-restore -o /app \
 && rm -f /app/*.pdb
# No file capability: the server listens on unprivileged ports (8988, 9988), so the DaemonSet drops every capability
# and sets allowPrivilegeEscalation: false.

# ---- plugin: the kubelet credential provider (src/MetadataProxy.CredentialProvider), NativeAOT. The kubelet runs it on
# the HOST, whose C library this image cannot know (glibc of any age, or none at all on some node OSes): a binary linked
# against this SDK's glibc would refuse to start on older hosts, and the kubelet would then pull anonymously. So it is
# built on Alpine and linked fully static against musl (StaticExecutable): one file that runs on any Linux host, and in
# the chiseled server image, from which the DaemonSet's init container copies it onto the node.
# This stage runs on the TARGET platform, not the builder's: NativeAOT compiles to native code and links with the
# target's clang, linker and C library, so an arm64 binary built on an amd64 builder would need a cross toolchain and
# an arm64 sysroot. buildx runs it under emulation instead (QEMU/binfmt, as `docker buildx build --platform` sets up),
# slower but with the same toolchain on both architectures.
FROM --platform=$TARGETPLATFORM mcr.microsoft.com/dotnet/sdk:${DOTNET_VERSION}-alpine AS plugin
ARG TARGETARCH
# The NativeAOT prerequisites on Alpine (clang, the C toolchain and musl's static libc from build-base, zlib), plus
# zlib's static library for the static link.
RUN apk add --no-cache clang build-base zlib-dev zlib-static
WORKDIR /src
COPY global.json Directory.Build.props Directory.Packages.props .editorconfig ./
COPY src/MetadataProxy.CredentialProvider/MetadataProxy.CredentialProvider.csproj src/MetadataProxy.CredentialProvider/
# Docker's architecture names to .NET runtime identifiers; anything else stops the build here.
RUN case "$TARGETARCH" in \
      amd64) echo linux-musl-x64 ;; \
      arm64) echo linux-musl-arm64 ;; \
      *) echo "no runtime identifier for TARGETARCH=$TARGETARCH" >&2; exit 1 ;; \
    esac > /tmp/rid
RUN --mount=type=cache,id=nuget,target=/root/.nuget/packages \
    dotnet restore src/MetadataProxy.CredentialProvider -r "$(cat /tmp/rid)"
COPY src/MetadataProxy.CredentialProvider/ src/MetadataProxy.CredentialProvider/
# PublishAot is also in the project; the AssemblyName (metadata-proxy-credential-provider) names the executable.
RUN --mount=type=cache,id=nuget,target=/root/.nuget/packages \
    dotnet publish src/MetadataProxy.CredentialProvider -c Release -r "$(cat /tmp/rid)" --no-restore \
      -p:PublishAot=true -p:StaticExecutable=true -o /plugin \
 && rm -f /plugin/*.dbg /plugin/*.pdb \
 && test -x /plugin/metadata-proxy-credential-provider

# ---- init: installs and removes the node interception (iptables/metadata-proxy-iptables.sh), as root with
# NET_ADMIN (and NET_RAW for legacy iptables) in the host network namespace. socat is the datapath probe's responder
# (`verify --probe`); its namespace tools (unshare, nsenter) come with util-linux, which every Debian image has.
FROM debian:bookworm-slim AS init
RUN apt-get update \
 && apt-get install -y --no-install-recommends iptables iproute2 conntrack socat \
 && rm -rf /var/lib/apt/lists/*
COPY --chmod=0755 iptables/metadata-proxy-iptables.sh /usr/local/bin/metadata-proxy-iptables
ENTRYPOINT ["metadata-proxy-iptables"]
CMD ["help"]

# ---- server (default): the self-contained server on the chiseled runtime dependencies (no shell, no package manager,
# no shared framework: the server carries its own, trimmed).
FROM mcr.microsoft.com/dotnet/runtime-deps:${DOTNET_VERSION}-noble-chiseled AS server
WORKDIR /app
COPY --from=build /app ./
# The kubelet credential provider and Docker credential helper; the DaemonSet's install-credential-provider init
# container runs `/app/metadata-proxy-credential-provider install DIR` to put it on the node.
COPY --from=plugin /plugin/metadata-proxy-credential-provider /app/metadata-proxy-credential-provider
# Kestrel binds what Listen:Metadata and Listen:Admin say; the image's default HTTP port would only add a warning.
ENV ASPNETCORE_HTTP_PORTS=
# The image's non-root user `app` (UID 1654); numeric so that Kubernetes can check runAsNonRoot.
USER $APP_UID
EXPOSE 8988 9988
ENTRYPOINT ["/app/MetadataProxy"]
