# Installs libmemberlist into a temporary prefix and builds tiny consumers against it three ways:
# the installed memberlist.pc, the build tree's pkgconfig/memberlist.pc (no install; rpath), and
# find_package(memberlist) (memberlist::memberlist). Each consumer is run.
# Usage: cmake -DBUILD=<build dir> -DSRC=<tests/c dir> -DWORK=<scratch dir> -DVERSION=<x.y.z> -DCC=<c compiler>
#              -DCXX=<c++ compiler> -DGENERATOR=<generator> -P install_test.cmake
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK})
set(prefix ${WORK}/prefix)

function(run)
  execute_process(COMMAND ${ARGV} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGV}\n${out}\n${err}")
  endif()
  set(last_output "${out}" PARENT_SCOPE)
endfunction()

# 1. Install.
run(${CMAKE_COMMAND} --install ${BUILD} --prefix ${prefix})
file(GLOB_RECURSE pcs ${prefix}/*/memberlist.pc)
list(LENGTH pcs n)
if(NOT n EQUAL 1)
  message(FATAL_ERROR "expected one installed memberlist.pc, found: ${pcs}")
endif()
get_filename_component(pcdir ${pcs} DIRECTORY)
get_filename_component(libdir ${pcdir} DIRECTORY)
foreach(f include/memberlist/memberlist.h include/memberlist.hpp)
  if(NOT EXISTS ${prefix}/${f})
    message(FATAL_ERROR "not installed: ${f}")
  endif()
endforeach()
file(GLOB cfgs ${libdir}/cmake/memberlist/memberlistConfig.cmake ${libdir}/cmake/memberlist/memberlistConfigVersion.cmake)
list(LENGTH cfgs n)
if(NOT n EQUAL 2)
  message(FATAL_ERROR "CMake package files missing under ${libdir}/cmake/memberlist")
endif()

# 2 and 3. pkg-config: the installed file and the build tree's.
foreach(kind installed buildtree)
  if(kind STREQUAL installed)
    set(path ${pcdir})
    set(runenv LD_LIBRARY_PATH=${libdir})
  else()
    set(path ${BUILD}/pkgconfig)
    set(runenv LD_LIBRARY_PATH=)  # must run through the rpath alone
  endif()
  run(${CMAKE_COMMAND} -E env PKG_CONFIG_PATH=${path} pkg-config --modversion memberlist)
  string(STRIP "${last_output}" version)
  if(NOT version STREQUAL VERSION)
    message(FATAL_ERROR "pkg-config (${kind}) says version '${version}', expected '${VERSION}'")
  endif()
  run(${CMAKE_COMMAND} -E env PKG_CONFIG_PATH=${path} pkg-config --cflags --libs memberlist)
  separate_arguments(flags UNIX_COMMAND "${last_output}")
  run(${CC} -std=c99 -Wall -Wextra -pedantic -Werror ${SRC}/consumer/consumer.c ${flags} -o ${WORK}/consumer_c_${kind})
  run(${CMAKE_COMMAND} -E env ${runenv} ${WORK}/consumer_c_${kind})
  run(${CXX} -std=c++17 -Wall -Wextra -pedantic -Werror ${SRC}/consumer/consumer.cpp ${flags} -o ${WORK}/consumer_cpp_${kind})
  run(${CMAKE_COMMAND} -E env ${runenv} ${WORK}/consumer_cpp_${kind})
  message(STATUS "pkg-config (${kind}, version ${version}): C and C++ consumers built and ran")
endforeach()

# 4. find_package(memberlist).
run(${CMAKE_COMMAND} -S ${SRC}/consumer -B ${WORK}/consumer-build -G ${GENERATOR} -DCMAKE_PREFIX_PATH=${prefix}
    -DCMAKE_C_COMPILER=${CC} -DCMAKE_CXX_COMPILER=${CXX})
run(${CMAKE_COMMAND} --build ${WORK}/consumer-build)
run(${WORK}/consumer-build/consumer_c)
run(${WORK}/consumer-build/consumer_cpp)
message(STATUS "find_package(memberlist): C and C++ consumers built and ran")
file(REMOVE_RECURSE ${WORK})
