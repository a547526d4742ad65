# CTest netns.build: builds the agents the netns tests run into BIN_DIR (-D arguments):
#   memberlist-ours  go/cmd on libmemberlist (go.mod)
#   memberlist-real  the same source on hashicorp/memberlist v0.7.0 (go.real.mod)
# and, when MVN is set, compiles the Java binding with Maven (the Java host runs
# tests/netns/NetnsAgent.java with the source launcher against those classes).
# Arguments: GO, SRC_DIR (go/cmd), BIN_DIR, and optionally MVN, MAVEN_ARGS ("|"-separated), JAVA_DIR.
file(MAKE_DIRECTORY ${BIN_DIR})
execute_process(COMMAND ${GO} build -o ${BIN_DIR}/memberlist-ours ./memberlist
                WORKING_DIRECTORY ${SRC_DIR} RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "go build (ours) failed: ${rc}")
endif()
execute_process(COMMAND ${GO} build -modfile=go.real.mod -o ${BIN_DIR}/memberlist-real ./memberlist
                WORKING_DIRECTORY ${SRC_DIR} RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "go build (real, go.real.mod) failed: ${rc}")
endif()
if(MVN)
  string(REPLACE "|" ";" _maven_args "${MAVEN_ARGS}")
  execute_process(COMMAND ${MVN} ${_maven_args} compile WORKING_DIRECTORY ${JAVA_DIR} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "mvn compile failed: ${rc}")
  endif()
endif()
