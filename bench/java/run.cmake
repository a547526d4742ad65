# CTest bench.java.smoke: compiles the binding with Maven (a no-op when up to date) and runs
# MessageBench.java with the source launcher. Arguments (-D): MVN, JAVA, MAVEN_ARGS ("|"-separated),
# PROJECT_DIR, CLASSES, NATIVE_DIR, BENCH_SRC, COUNT.
string(REPLACE "|" ";" _maven_args "${MAVEN_ARGS}")
execute_process(COMMAND ${MVN} ${_maven_args} compile WORKING_DIRECTORY ${PROJECT_DIR} RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "mvn compile failed: ${rc}")
endif()
execute_process(COMMAND ${JAVA} -cp ${CLASSES} -Djava.library.path=${NATIVE_DIR} ${BENCH_SRC} ${COUNT}
                RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "MessageBench failed: ${rc}")
endif()
