# libmemberlist.a: the static library, from the very objects of libmemberlist.so (the C API shim)
# and of the core libraries it links (ml_net, ml_protocol, ml_state, ml_wire).
#
# A plain archive of those objects would export every C++ symbol of the core to the program that
# links it (name clashes with the program's own code, or with another copy of the core). As the
# shared library does with its version script, only ml_* stays global: the objects are linked into
# one relocatable object (ld -r; --force-group-allocation resolves the COMDAT groups there, so no
# group is left whose signature symbol we then make local), objcopy makes every defined symbol but
# ml_* local, and the archive holds that one object. (objcopy leaves GNU-unique symbols alone: a
# few static locals of inline functions, one copy per process by design, stay global.) References to libuv, libcrypto, zlib and
# libstdc++ stay undefined: memberlist.pc lists them in Libs.private.
set(ML_STATIC_LIB ${CMAKE_BINARY_DIR}/capi/libmemberlist.a)
set(_ml_static_obj ${CMAKE_BINARY_DIR}/capi/memberlist_static.o)
if(NOT CMAKE_OBJCOPY OR NOT CMAKE_LINKER)
  message(FATAL_ERROR "libmemberlist.a needs ld and objcopy (binutils)")
endif()
add_custom_command(
  OUTPUT ${ML_STATIC_LIB}
  COMMAND ${CMAKE_COMMAND} -E rm -f ${ML_STATIC_LIB} ${_ml_static_obj}
  COMMAND ${CMAKE_LINKER} -r --force-group-allocation -o ${_ml_static_obj}
          $<TARGET_OBJECTS:memberlist>
          --whole-archive $<TARGET_FILE:ml_net> $<TARGET_FILE:ml_protocol> $<TARGET_FILE:ml_state>
          $<TARGET_FILE:ml_wire> --no-whole-archive
  COMMAND ${CMAKE_OBJCOPY} --wildcard --keep-global-symbol=ml_* ${_ml_static_obj}
  COMMAND ${CMAKE_AR} qc ${ML_STATIC_LIB} ${_ml_static_obj}
  COMMAND ${CMAKE_RANLIB} ${ML_STATIC_LIB}
  DEPENDS memberlist ml_net ml_protocol ml_state ml_wire
  COMMENT "Creating static library libmemberlist.a (only ml_* global)"
  COMMAND_EXPAND_LISTS VERBATIM)
add_custom_target(memberlist_static ALL DEPENDS ${ML_STATIC_LIB})
