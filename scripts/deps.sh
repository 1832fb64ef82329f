# Sourced by the other scripts: installs the build dependencies with apt-get when any is missing.
# On a prepared machine (all packages present) it does nothing, so CI needs no network there.
TG_PACKAGES=(g++ cmake ninja-build pkg-config libgtest-dev libgmock-dev zlib1g-dev libcli11-dev nlohmann-json3-dev dataset-fashion-mnist
  libopenmpi-dev openmpi-bin libsndfile1-dev libsoxr-dev libfftw3-dev espeak-ng flite
  python3-dev pybind11-dev python3-numpy python3-pytest python3-torch)

tg_package_installed() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

tg_install_deps() {
  if ! command -v dpkg-query >/dev/null 2>&1; then
    echo "deps: not a Debian/Ubuntu system; make sure these are installed: ${TG_PACKAGES[*]}" >&2
    return 0
  fi
  local missing=() package
  for package in "${TG_PACKAGES[@]}"; do
    tg_package_installed "$package" || missing+=("$package")
  done
  if ((${#missing[@]} == 0)); then
    echo "deps: all present (${TG_PACKAGES[*]})"
    return 0
  fi
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then sudo=(sudo); fi
  echo "deps: installing ${missing[*]}"
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
}
