# CTest java.consumer: what java/README.md tells a user to do. `mvn install` puts
# dev.memberlist:memberlist:0.1.0 (jar with natives, -sources, -javadoc) into the local Maven
# repository; a separate project (java/consumer-test, copied to WORK) depends on those
# coordinates only, is built by Maven and run by a plain `java` with no java.library.path, so the
# natives come from the installed jar.
# Arguments (-D): MVN, JAVA, MAVEN_ARGS ("|"-separated, those of java.junit), PROJECT_DIR (java/),
# CONSUMER_SRC, WORK.
string(REPLACE "|" ";" _maven_args "${MAVEN_ARGS}")

function(run what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${what} failed (${rc}):\n${out}${err}")
  endif()
  set(out "${out}${err}" PARENT_SCOPE)
endfunction()

execute_process(COMMAND ${MVN} ${_maven_args} -DskipTests install
                WORKING_DIRECTORY ${PROJECT_DIR} RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "mvn install failed: ${rc}")
endif()

file(REMOVE_RECURSE ${WORK})
file(COPY ${CONSUMER_SRC}/ DESTINATION ${WORK})
execute_process(COMMAND ${MVN} -B -q -Dstyle.color=never package
                WORKING_DIRECTORY ${WORK} RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "the consumer project did not build against dev.memberlist:memberlist:0.1.0: ${rc}")
endif()

file(READ ${WORK}/target/classpath.txt cp)
string(STRIP "${cp}" cp)
if(NOT cp MATCHES "memberlist-0\\.1\\.0\\.jar")
  message(FATAL_ERROR "the consumer's class path has no memberlist-0.1.0.jar: ${cp}")
endif()
string(REGEX MATCH "[^:]*memberlist-0\\.1\\.0\\.jar" jar "${cp}")
foreach(classifier sources javadoc)
  string(REPLACE "memberlist-0.1.0.jar" "memberlist-0.1.0-${classifier}.jar" extra "${jar}")
  if(NOT EXISTS "${extra}")
    message(FATAL_ERROR "mvn install did not install ${extra}")
  endif()
endforeach()

string(RANDOM LENGTH 8 ALPHABET abcdefghijklmnopqrstuvwxyz suffix)
set(name "consumer-${suffix}")
execute_process(COMMAND ${JAVA} -cp "${WORK}/target/classes:${cp}" example.Consumer ${name}
                WORKING_DIRECTORY ${WORK} TIMEOUT 60
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
message(STATUS "consumer output:\n${out}${err}")
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "the consumer failed: ${rc}")
endif()
if(NOT out MATCHES "consumer: node ${name} at 127\\.0\\.0\\.1:[0-9]+, members 1\n" OR NOT out MATCHES "consumer: closed")
  message(FATAL_ERROR "unexpected consumer output")
endif()
