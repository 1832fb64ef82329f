#!/usr/bin/env bash
# Installs a built tree into a temporary prefix, then builds and runs a small consumer project against it
# twice: with find_package(tensorgrad CONFIG) and with pkg-config. Registered with ctest (tests/CMakeLists.txt).
#   bash tests/install/install_test.sh BUILD_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix

cmake --install "$build" --prefix "$prefix" >"$work/install.log"
test -f "$prefix/include/tensorgrad/tensorgrad.h" || { echo "install: headers missing"; exit 1; }
config=$(find "$prefix" -name tensorgradConfig.cmake | head -1)
pc=$(find "$prefix" -name tensorgrad.pc | head -1)
[ -n "$config" ] || { echo "install: CMake package missing"; exit 1; }
[ -n "$pc" ] || { echo "install: pkg-config file missing"; exit 1; }
libdir=$(dirname "$(dirname "$pc")")
# The installed tree must not point back into the source or build tree.
if grep -rqs -e "$build" -e "$(cd "$here/../.." && pwd)/include" "$(dirname "$config")" "$(dirname "$pc")"; then
  echo "install: the package files refer to the build or source tree"; exit 1
fi

echo "== find_package"
cmake -S "$here/consumer" -B "$work/cmake-build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$prefix" \
  >"$work/configure.log" || { cat "$work/configure.log"; exit 1; }
cmake --build "$work/cmake-build" >"$work/build.log" 2>&1 || { cat "$work/build.log"; exit 1; }
"$work/cmake-build/consumer"

echo "== pkg-config"
export PKG_CONFIG_PATH=$(dirname "$pc")
# shellcheck disable=SC2046  # the flags are words
c++ -O2 "$here/consumer/main.cpp" -o "$work/consumer-pc" $(pkg-config --cflags --libs tensorgrad)
if [ -n "${TG_INSTALL_TEST_SHARED:-}" ]; then export LD_LIBRARY_PATH=$libdir; fi
"$work/consumer-pc"

# The Python package, when the tree built it: importable from the prefix alone (the build tree's copy is not
# on the path).
if [ -d "$build/python/tensorgrad" ]; then
  echo "== python"
  site=$(find "$prefix" -type d -name tensorgrad -path '*dist-packages*' | head -1)
  [ -n "$site" ] || { echo "install: the Python package is missing"; exit 1; }
  python=$(sed -n 's/^Python3_EXECUTABLE:[A-Z]*=//p' "$build/CMakeCache.txt")
  (cd "$work" && PYTHONPATH=$(dirname "$site") "$python" -c '
import tensorgrad as tg, sys
assert tg.__file__.startswith(sys.argv[1]), tg.__file__
x = tg.ones(2, 3, requires_grad=True)
(x * x).sum().backward()
assert x.grad.tolist() == [[2.0] * 3] * 2
print("python package from", tg.__file__)' "$prefix")
fi
echo "install test passed"
