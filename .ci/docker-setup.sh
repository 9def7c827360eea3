#!/usr/bin/env bash
# Makes the local Node base image the producer's container is built on in CI and tests:
# no registry is reachable here, so `FROM node:20-bookworm-slim` cannot be pulled (see
# ../shared/MACHINE.md). The image holds the host's `node` binary, the libraries `ldd` lists,
# an /etc/passwd with the `node` user (uid 1000, as in the official image) and a writable /tmp.
# Usage: bash .ci/docker-setup.sh [IMAGE]   (default local/node-base:20; a no-op when it exists)
set -euo pipefail
image="${1:-local/node-base:20}"
if ! docker info >/dev/null 2>&1; then
  echo "docker-setup: no Docker engine answers; start dockerd first" >&2
  exit 1
fi
if docker image inspect "$image" >/dev/null 2>&1; then
  echo "docker-setup: $image exists"
  exit 0
fi
node_bin="$(command -v node)"
root="$(mktemp -d)"
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/usr/local/bin" "$root/tmp" "$root/etc" "$root/app" "$root/home/node"
chmod 1777 "$root/tmp"
cp "$(readlink -f "$node_bin")" "$root/usr/local/bin/node"
for lib in $(ldd "$node_bin" | grep -o '/[^ ]*'); do
  mkdir -p "$root$(dirname "$lib")"
  cp -L "$lib" "$root$lib"
done
# Name resolution needs these in glibc even for 127.0.0.1 lookups of "localhost".
for lib in /lib/x86_64-linux-gnu/libnss_files.so.2 /lib/x86_64-linux-gnu/libresolv.so.2; do
  if [ -e "$lib" ]; then mkdir -p "$root$(dirname "$lib")"; cp -L "$lib" "$root$lib"; fi
done
printf 'root:x:0:0:root:/root:/usr/sbin/nologin\nnode:x:1000:1000::/home/node:/usr/sbin/nologin\n' > "$root/etc/passwd"
printf 'root:x:0:\nnode:x:1000:\n' > "$root/etc/group"
printf 'hosts: files dns\n' > "$root/etc/nsswitch.conf"
printf '127.0.0.1 localhost\n::1 localhost\n' > "$root/etc/hosts"
chown -R 1000:1000 "$root/home/node"
tar -C "$root" -c . | docker import \
  --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin' \
  --change 'ENV NODE_VERSION='"$(node -p 'process.versions.node')" \
  - "$image" >/dev/null
echo "docker-setup: made $image from $node_bin ($(docker image inspect "$image" --format '{{.Size}}') bytes)"
