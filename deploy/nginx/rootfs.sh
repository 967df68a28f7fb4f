#!/usr/bin/env bash
# The nginx image's root filesystem: Debian bookworm minbase with nginx-light and the
# bookworm-security updates, at $1.
set -euo pipefail
target="$1"
debootstrap --variant=minbase --include=nginx-light bookworm "$target" http://deb.debian.org/debian
echo "deb http://deb.debian.org/debian-security bookworm-security main" \
  >"$target/etc/apt/sources.list.d/security.list"
cp /etc/resolv.conf "$target/etc/resolv.conf"
chroot "$target" apt-get update -qq
chroot "$target" env DEBIAN_FRONTEND=noninteractive apt-get upgrade -y -qq
chroot "$target" apt-get clean
: >"$target/etc/resolv.conf"
# Nothing the server needs: package caches, lists and docs.
rm -rf "$target"/var/cache/apt/archives/*.deb "$target"/var/lib/apt/lists/* \
  "$target"/usr/share/doc/* "$target"/usr/share/man/* "$target"/usr/share/locale/*
# Logs to the container's output, as in the official image.
ln -sf /dev/stdout "$target/var/log/nginx/access.log"
ln -sf /dev/stderr "$target/var/log/nginx/error.log"
