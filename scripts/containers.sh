# Sourced by scripts/image-base.sh, scripts/image.sh and the cluster lab's image steps: buildah and podman on our own
# image store under ${BEACONLB_CACHE:-~/.cache/beaconlb}/containers, never the machine's /var/lib/containers.
#
# Every call runs in a private mount namespace (unshare --mount): the overlay mounts buildah and podman make live and
# die with the call, so nothing stays mounted on the host, also when a build fails or is killed. One build at a time
# (flock on the store): the run root (lock files, mount bookkeeping) is then safe to reset before each use.
# RUN steps share the host's network namespace (--network host) so no bridge or firewall rule is ever created, and
# get explicit rlimits: root here lacks CAP_SYS_RESOURCE and the defaults (nofile 1048576) fail ("error setting
# rlimit type 7").
beaconlb_cache="${BEACONLB_CACHE:-$HOME/.cache/beaconlb}"
containers_store="$beaconlb_cache/containers"
containers_storage_opts=(--root "$containers_store/storage" --runroot "$containers_store/run" --storage-driver overlay)
containers_ulimits=(--ulimit nofile=20000:20000 --ulimit nproc=32768:32768)

# Takes the store's lock for the rest of the calling script and resets the run root.
containers_lock() {
  mkdir -p "$containers_store"
  exec {containers_lock_fd}>"$containers_store/lock"
  if ! flock -w 1800 "$containers_lock_fd"; then echo "containers: $containers_store is locked by another build" >&2; exit 1; fi
  rm -rf "$containers_store/run"
  mkdir -p "$containers_store/run"
}

buildah_in_store() {
  BUILDAH_ISOLATION=chroot unshare --mount --propagation private buildah "${containers_storage_opts[@]}" "$@"
}

podman_in_store() {
  unshare --mount --propagation private podman "${containers_storage_opts[@]}" --cgroup-manager cgroupfs --events-backend none "$@"
}
