# version.consistent: java/pom.xml's <version> must be the library's version (memberlist.h's
# ML_VERSION_* macros, which the top-level CMakeLists.txt reads). -DVERSION=… -DPOM=…
file(READ "${POM}" _pom)
# The project's own <version> follows its <artifactId>.
string(REGEX MATCH "<artifactId>memberlist</artifactId>[ \t\r\n]*<version>([^<]+)</version>" _ "${_pom}")
if(NOT CMAKE_MATCH_1)
  message(FATAL_ERROR "no <artifactId>memberlist</artifactId><version>…</version> in ${POM}")
endif()
if(NOT CMAKE_MATCH_1 STREQUAL VERSION)
  message(FATAL_ERROR "java/pom.xml says ${CMAKE_MATCH_1}, memberlist.h says ${VERSION}: make them agree")
endif()
message(STATUS "version ${VERSION}: memberlist.h and java/pom.xml agree")
