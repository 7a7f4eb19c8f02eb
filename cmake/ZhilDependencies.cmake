# Every dependency is a Debian 12 package. A missing one stops configure with the package to install
# (lab/setup.sh installs them all).
function(zhil_require_package name debian_package)
  find_package(${name} ${ARGN} QUIET)
  if(NOT ${name}_FOUND)
    message(FATAL_ERROR
      "zhil: ${name} not found. Install the Debian package '${debian_package}' "
      "(sudo apt-get install ${debian_package}), or run lab/setup.sh which installs everything.")
  endif()
endfunction()

zhil_require_package(Boost libboost1.81-dev 1.81 CONFIG)
zhil_require_package(yaml-cpp libyaml-cpp-dev)
zhil_require_package(nlohmann_json nlohmann-json3-dev 3.11)
zhil_require_package(CLI11 libcli11-dev CONFIG)
zhil_require_package(muparser libmuparser-dev CONFIG)
zhil_require_package(OpenSSL libssl-dev)
zhil_require_package(Threads libc6-dev)
zhil_require_package(SQLite3 libsqlite3-dev)
zhil_require_package(PostgreSQL libpq-dev)
if(ZHIL_BUILD_TESTS)
  zhil_require_package(GTest libgtest-dev)
  zhil_require_package(benchmark libbenchmark-dev)
endif()

# libmodbus has no CMake package; Debian ships its pkg-config file.
find_package(PkgConfig QUIET)
if(PkgConfig_FOUND)
  pkg_check_modules(LIBMODBUS QUIET IMPORTED_TARGET libmodbus>=3.1)
endif()
if(NOT LIBMODBUS_FOUND)
  message(FATAL_ERROR
    "zhil: libmodbus not found. Install the Debian package 'libmodbus-dev' "
    "(sudo apt-get install libmodbus-dev pkg-config), or run lab/setup.sh which installs everything.")
endif()
if(PkgConfig_FOUND)
  pkg_check_modules(LIBSOCKETCAN QUIET IMPORTED_TARGET libsocketcan)
endif()
if(NOT LIBSOCKETCAN_FOUND)
  message(FATAL_ERROR
    "zhil: libsocketcan not found. Install the Debian package 'libsocketcan-dev' "
    "(sudo apt-get install libsocketcan-dev pkg-config), or run lab/setup.sh which installs everything.")
endif()
