#!/usr/bin/env bash
# Build the local nginx image for the compose fleet profile (bundle server and load balancer),
# since no image registry is reachable here: a Debian minbase rootfs with Debian's nginx-light and
# the bookworm-security updates, made by debootstrap and turned into an image by `docker import`.
# Cached: rebuilt only when deploy/nginx/rootfs.sh changes. Prints the image name, for
# TFGEN_NGINX_IMAGE.
source "$(dirname "$0")/lib.sh"
recipe="$ROOT/deploy/nginx/rootfs.sh"
digest="$(sha256sum "$recipe" | cut -c1-12)"
image="tfgen/nginx:bookworm-local"
current="$(docker image inspect -f '{{index .Config.Labels "org.tfgen.recipe"}}' "$image" 2>/dev/null || true)"
if [ "$current" != "$digest" ]; then
  command -v debootstrap >/dev/null 2>&1 || {
    log "nginx image: installing Debian's debootstrap"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
  }
  tarball="$CACHE/nginx-rootfs-$digest.tar"
  if [ ! -s "$tarball" ]; then
    log "nginx image: debootstrap of a Debian minbase rootfs (log: $CACHE/nginx-rootfs.log)"
    mkdir -p "$CACHE"
    work="$(mktemp -d)"
    trap 'rm -rf "$work"' EXIT
    bash "$recipe" "$work/rootfs" >"$CACHE/nginx-rootfs.log" 2>&1 \
      || { tail -5 "$CACHE/nginx-rootfs.log" >&2; log "nginx image: debootstrap failed"; exit 1; }
    tar --numeric-owner -C "$work/rootfs" -cf "$tarball.tmp" .
    mv "$tarball.tmp" "$tarball"
    # Rootfs tarballs of earlier recipes are not needed again.
    find "$CACHE" -maxdepth 1 -name 'nginx-rootfs-*.tar' ! -name "nginx-rootfs-$digest.tar" -delete
  fi
  log "nginx image: docker import $image"
  # As the official image: nginx in the foreground (import cannot set its SIGQUIT stop signal).
  docker import \
    --change 'CMD ["nginx", "-g", "daemon off;"]' \
    --change 'EXPOSE 80' \
    --change "LABEL org.tfgen.recipe=$digest" \
    "$tarball" "$image" >/dev/null
fi
echo "$image"
