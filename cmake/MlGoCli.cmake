# The `memberlist` CLI and agent (go/cmd), built by Go when ML_BUILD_GO is on, installed to bin in
# the install component "agent" (the memberlist-agent Debian package, cmake/MlPackage.cmake) with
# its systemd unit and sample configuration (packaging/). libmemberlist.a is linked in, so the
# binary runs from any prefix (cmake/MlGoBuild.cmake says how Go's cache is kept honest).
set(ML_CLI ${CMAKE_BINARY_DIR}/go-cli/memberlist)
file(GLOB _ml_cli_sources CONFIGURE_DEPENDS
     ${PROJECT_SOURCE_DIR}/go/*.go ${PROJECT_SOURCE_DIR}/go/*.c ${PROJECT_SOURCE_DIR}/go/*.h
     ${PROJECT_SOURCE_DIR}/go/go.mod ${PROJECT_SOURCE_DIR}/go/go.sum
     ${PROJECT_SOURCE_DIR}/go/cmd/memberlist/*.go ${PROJECT_SOURCE_DIR}/go/cmd/go.mod ${PROJECT_SOURCE_DIR}/go/cmd/go.sum)
list(FILTER _ml_cli_sources EXCLUDE REGEX "_test\\.go$")
add_custom_command(
  OUTPUT ${ML_CLI}
  COMMAND ${CMAKE_COMMAND} -DGO=${GO_EXECUTABLE} -DSRC=${PROJECT_SOURCE_DIR}/go/cmd -DOUT=${ML_CLI}
          -DHEADER=${PROJECT_SOURCE_DIR}/capi/include/memberlist/memberlist.h
          -DPKG_CONFIG_DIR=${CMAKE_BINARY_DIR}/pkgconfig -DBUILD_DIR=${CMAKE_BINARY_DIR}
          -P ${PROJECT_SOURCE_DIR}/cmake/MlGoBuild.cmake
  DEPENDS ${ML_STATIC_LIB} memberlist_static ${PROJECT_SOURCE_DIR}/capi/include/memberlist/memberlist.h
          ${PROJECT_SOURCE_DIR}/cmake/MlGoBuild.cmake ${_ml_cli_sources}
  COMMENT "Building the memberlist CLI (go build, libmemberlist.a linked in)"
  USES_TERMINAL VERBATIM)
add_custom_target(memberlist_cli ALL DEPENDS ${ML_CLI})

install(PROGRAMS ${ML_CLI} DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT agent)
# install(PROGRAMS) is not stripped by `cmake --install --strip` or CPack's CPACK_STRIP_FILES:
# strip it here (its debug sections; Go's own symbol table for stack traces stays).
if(IS_ABSOLUTE "${CMAKE_INSTALL_BINDIR}")
  set(_ml_cli_dest "${CMAKE_INSTALL_BINDIR}/memberlist")
else()
  set(_ml_cli_dest "\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_BINDIR}/memberlist")
endif()
install(CODE "
  if(CMAKE_INSTALL_DO_STRIP)
    execute_process(COMMAND \"${CMAKE_STRIP}\" --strip-debug \"\$ENV{DESTDIR}${_ml_cli_dest}\" RESULT_VARIABLE rc)
    if(NOT rc EQUAL 0)
      message(FATAL_ERROR \"strip --strip-debug memberlist failed\")
    endif()
  endif()
" COMPONENT agent)
# The systemd unit and the sample configuration, where the unit expects them for the prefix /usr
# (the Debian package: /lib/systemd/system/memberlist-agent.service, /etc/memberlist/agent.json),
# and under any other prefix in <prefix>/lib/systemd/system and <prefix>/etc/memberlist (the unit
# then still names /usr/bin and /etc: it is meant for the package). Decided at install time, when
# the prefix is known (`cmake --install --prefix`, CPack's /usr with DESTDIR).
install(CODE "
  if(CMAKE_INSTALL_PREFIX STREQUAL \"/usr\")
    set(_ml_unit_dir /lib/systemd/system)
    set(_ml_etc_dir /etc/memberlist)
  else()
    set(_ml_unit_dir \"\${CMAKE_INSTALL_PREFIX}/lib/systemd/system\")
    set(_ml_etc_dir \"\${CMAKE_INSTALL_PREFIX}/etc/memberlist\")
  endif()
  file(INSTALL DESTINATION \"\${_ml_unit_dir}\" TYPE FILE FILES \"${PROJECT_SOURCE_DIR}/packaging/memberlist-agent.service\")
  file(INSTALL DESTINATION \"\${_ml_etc_dir}\" TYPE FILE FILES \"${PROJECT_SOURCE_DIR}/packaging/agent.json\")
" COMPONENT agent)
