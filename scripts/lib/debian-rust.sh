# shellcheck shell=bash
# Debian's own Rust, for targets whose std rustup cannot download here (sourced by
# scripts/build-wheels, scripts/test-core-aarch64, scripts/check-targets).
#
# debian_rust TARGET_DIR [src]: exports RUSTC and RUSTDOC, wrappers of a Debian rustc
# whose sysroot has the std of x86_64- and aarch64-unknown-linux-gnu. Debian ships
# rustc-web (a current rustc for the browsers, newer than this workspace's rust-version
# and PyO3's) with its std as libstd-rust-web-dev for each architecture; multiarch gives
# the arm64 one of exactly the same version. With `src`, also rust-web-src, the std's
# source of that version, for `cargo -Zbuild-std` (any other target). The .debs are
# unpacked under TARGET_DIR (dpkg-deb -x), not installed: nothing else on the machine
# changes but the arm64 architecture that apt now knows. Needs root.

debian_rust() {
  local target_dir=$1 with_src=${2:-} version dir runtime llvm log
  if ! dpkg --print-foreign-architectures | grep -qx arm64; then
    dpkg --add-architecture arm64
    apt-get update -q >/dev/null
  elif ! apt-cache show libstd-rust-web-dev:arm64 >/dev/null 2>&1; then
    apt-get update -q >/dev/null
  fi
  version=$(apt-cache policy rustc-web | awk '/Candidate:/ {print $2}')
  if [ -z "$version" ] || [ "$version" = "(none)" ]; then
    echo "debian_rust: no rustc-web in this machine's apt sources" >&2
    exit 1
  fi
  dir="$target_dir/debian-rust-${version//[^A-Za-z0-9.+-]/_}"
  log=$(mktemp)
  if [ ! -x "$dir/root/usr/bin/rustc" ]; then
    runtime=$(apt-cache depends "libstd-rust-web-dev=$version" |
      awk '/Depends: libstd-rust-web-[0-9]/ {print $2; exit}')
    llvm=$(apt-cache depends "$runtime=$version" | awk '/Depends: libllvm[0-9]/ {print $2; exit}')
    rm -rf "$dir" && mkdir -p "$dir/debs"
    if ! (cd "$dir/debs" && apt-get download -q "rustc-web=$version" "$runtime=$version" \
      "libstd-rust-web-dev=$version" "libstd-rust-web-dev:arm64=$version" "$llvm") >"$log" 2>&1; then
      cat "$log" >&2
      exit 1
    fi
    for deb in "$dir"/debs/*.deb; do dpkg-deb -x "$deb" "$dir/root"; done
  fi
  # rustc and rustdoc find their sysroot from their own path; their libraries
  # (librustc_driver, LLVM) come from the unpacked tree, not the system.
  local tool
  for tool in rustc rustdoc; do
    # shellcheck disable=SC2016 # $LD_LIBRARY_PATH and $@ expand when the wrapper runs
    printf '#!/bin/sh\nLD_LIBRARY_PATH="%s/root/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" exec "%s/root/usr/bin/%s" "$@"\n' \
      "$dir" "$dir" "$tool" >"$dir/$tool"
    chmod +x "$dir/$tool"
  done
  if [ "$with_src" = src ] && [ ! -e "$dir/root/usr/lib/rustlib/src/rust/library/Cargo.lock" ]; then
    if ! (cd "$dir/debs" && apt-get download -q "rust-web-src=$version") >"$log" 2>&1; then
      cat "$log" >&2
      exit 1
    fi
    dpkg-deb -x "$dir"/debs/rust-web-src_*.deb "$dir/root"
  fi
  rm -f "$log"
  export RUSTC="$dir/rustc" RUSTDOC="$dir/rustdoc"
  echo "   $("$RUSTC" --version), std for: $(cd "$dir/root/usr/lib/rustlib" && echo ./*-linux-gnu)"
}
