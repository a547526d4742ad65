# CTest java.missing_build: Maven run against a CMake build tree that does not exist must stop
# at once with the one enforcer message naming the CMake target to build, not with javac's
# "package dev.memberlist.internal does not exist" for every file.
# Arguments (-D): MVN, PROJECT_DIR (java/), WORK (a scratch directory).
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK})
execute_process(
  COMMAND ${MVN} -B -Dstyle.color=never compile
          -Dmemberlist.cmake.build=${WORK}/no-such-build
          -Dmemberlist.build.dir=${WORK}/maven
  WORKING_DIRECTORY ${PROJECT_DIR}
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
set(out "${out}${err}")
if(rc EQUAL 0)
  message(FATAL_ERROR "mvn compile without the CMake build succeeded:\n${out}")
endif()
string(REGEX MATCHALL "Build the CMake target memberlist_java_natives first" hits "${out}")
list(LENGTH hits n)
if(NOT n EQUAL 1)
  message(FATAL_ERROR "expected the enforcer's message once, found it ${n} times:\n${out}")
endif()
if(NOT out MATCHES "-Dmemberlist.cmake.build=")
  message(FATAL_ERROR "the message does not mention -Dmemberlist.cmake.build:\n${out}")
endif()
if(out MATCHES "does not exist" OR out MATCHES "COMPILATION ERROR")
  message(FATAL_ERROR "javac ran before the check:\n${out}")
endif()
message(STATUS "one message, as expected")
