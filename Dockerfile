# syntax=docker/dockerfile:1
# Two images from one file, each for linux/amd64 and linux/arm64 (README: Install on a cluster):
#   server (the default target):  docker buildx build --platform linux/amd64,linux/arm64 -t REPO:TAG --push .
#   init (node interception):     docker buildx build --platform linux/amd64,linux/arm64 --target init -t REPO:TAG-init --push .

ARG DOTNET_VERSION=10.0

# ---- build: runs on the builder's own platform; only the apphost differs between target architectures.
FROM --platform=$BUILDPLATFORM mcr.microsoft.com/dotnet/sdk:${DOTNET_VERSION} AS build
ARG TARGETARCH
RUN apt-get update \
 && apt-get install -y --no-install-recommends libcap2-bin \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY global.json Directory.Build.props Directory.Packages.props .editorconfig ./
COPY src/MetadataProxy/MetadataProxy.csproj src/MetadataProxy/
# -a takes Docker's names (amd64, arm64) and means the linux-x64 / linux-arm64 runtime identifiers.
RUN --mount=type=cache,id=nuget,target=/root/.nuget/packages \
    dotnet restore src/MetadataProxy --os linux -a "$TARGETARCH"
COPY src/MetadataProxy/ src/MetadataProxy/
RUN --mount=type=cache,id=nuget,target=/root/.nuget/packages \
    dotnet publish src/MetadataProxy -c Release --os linux -a "$TARGETARCH" --self-contained false --no-restore -o /app \
 && rm -f /app/*.pdb
# Port 988 as a non-root user: Kubernetes hands added capabilities to non-root processes only through file
# capabilities (it sets no ambient ones), so the executable carries cap_net_bind_service. The DaemonSet's bounding
# set allows nothing else, and its allowPrivilegeEscalation stays true because no_new_privs would ignore the file
# capability. setcap only writes an extended attribute, so it works on the arm64 apphost too.
RUN setcap cap_net_bind_service=+ep /app/MetadataProxy

# ---- init: installs and removes the node interception (iptables/metadata-proxy-iptables.sh), as root with
# NET_ADMIN (and NET_RAW for legacy iptables) in the host network namespace.
FROM debian:bookworm-slim AS init
RUN apt-get update \
 && apt-get install -y --no-install-recommends iptables iproute2 conntrack \
 && rm -rf /var/lib/apt/lists/*
COPY --chmod=0755 iptables/metadata-proxy-iptables.sh /usr/local/bin/metadata-proxy-iptables
ENTRYPOINT ["metadata-proxy-iptables"]
CMD ["help"]

# ---- server (default): framework-dependent on the chiseled ASP.NET Core runtime (no shell, no package manager).
FROM mcr.microsoft.com/dotnet/aspnet:${DOTNET_VERSION}-noble-chiseled AS server
WORKDIR /app
COPY --from=build /app ./
# Kestrel binds what Listen:Metadata and Listen:Admin say; the image's default HTTP port would only add a warning.
ENV ASPNETCORE_HTTP_PORTS=
# The image's non-root user `app` (UID 1654); numeric so that Kubernetes can check runAsNonRoot.
USER $APP_UID
EXPOSE 988 9988
ENTRYPOINT ["/app/MetadataProxy"]
