# Debian packages: `cpack -G DEB --config <build>/CPackConfig.cmake` (or `cd <build> && cpack -G DEB`)
# builds one package per install component (cmake/MlInstall.cmake):
#   libmemberlist0     the runtime component: libmemberlist.so.0 and its version
#   libmemberlist-dev  the dev component: headers, libmemberlist.a, the .so link, pkg-config and
#                      CMake files, ml_example, the user docs
#   memberlist-agent   the agent component (ML_BUILD_GO, cmake/MlGoCli.cmake): the memberlist CLI
#                      (libmemberlist.a linked in), /lib/systemd/system/memberlist-agent.service
#                      and the conffile /etc/memberlist/agent.json
# All install under /usr.
set(CPACK_PACKAGE_NAME libmemberlist)
set(CPACK_PACKAGE_VENDOR "libmemberlist")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "libmemberlist maintainers <libmemberlist@localhost>")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_GENERATOR DEB)
set(CPACK_STRIP_FILES ON)  # the .so and ml_example; MlInstall.cmake strips libmemberlist.a's debug sections
set(CPACK_COMPONENTS_ALL runtime dev)
if(TARGET memberlist_cli)
  list(APPEND CPACK_COMPONENTS_ALL agent)
endif()
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # <name>_<version>-<release>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://github.com/hashicorp/memberlist")

set(CPACK_DEBIAN_RUNTIME_PACKAGE_NAME libmemberlist0)
set(CPACK_DEBIAN_RUNTIME_PACKAGE_SECTION libs)
# The first line of each package's Description is the project's DESCRIPTION (CPack prepends it).
set(CPACK_DEBIAN_RUNTIME_DESCRIPTION "libmemberlist implements SWIM with the Lifeguard extensions in C++20 behind a stable C API,
wire-compatible with hashicorp/memberlist. This package holds the shared library.")
# dpkg-shlibdeps (dpkg-dev) derives its Depends (libuv1, libssl3, zlib1g, libstdc++6, libc6).
set(CPACK_DEBIAN_RUNTIME_PACKAGE_SHLIBDEPS ON)

set(CPACK_DEBIAN_DEV_PACKAGE_NAME libmemberlist-dev)
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_DEV_DESCRIPTION "Development files: the C API and C++ wrapper headers, the static library, pkg-config and CMake files, the
ml_example program and the documentation of libmemberlist.")
# The static library needs the -dev packages of what it links (memberlist.pc's Libs.private).
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS
    "libmemberlist0 (= ${PROJECT_VERSION}-${CPACK_DEBIAN_PACKAGE_RELEASE}), libuv1-dev, libssl-dev, zlib1g-dev, libc6")

# The agent links libmemberlist.a, so it does not depend on libmemberlist0; dpkg-shlibdeps derives
# the rest (libuv1, libssl3, zlib1g, libstdc++6, libc6).
set(CPACK_DEBIAN_AGENT_PACKAGE_NAME memberlist-agent)
set(CPACK_DEBIAN_AGENT_PACKAGE_SECTION net)
set(CPACK_DEBIAN_AGENT_DESCRIPTION "The memberlist command: a cluster membership agent run by systemd (memberlist-agent.service,
configured in /etc/memberlist/agent.json) and its client (memberlist members), with /health and
Prometheus /metrics endpoints.")
set(CPACK_DEBIAN_AGENT_PACKAGE_SHLIBDEPS ON)
# /etc/memberlist/agent.json is a conffile: an upgrade keeps the operator's edits.
configure_file(${PROJECT_SOURCE_DIR}/packaging/conffiles ${CMAKE_BINARY_DIR}/packaging/agent/conffiles COPYONLY)
set(CPACK_DEBIAN_AGENT_PACKAGE_CONTROL_EXTRA ${CMAKE_BINARY_DIR}/packaging/agent/conffiles)
set(CPACK_DEBIAN_AGENT_PACKAGE_CONTROL_STRICT_PERMISSION ON)

include(CPack)
