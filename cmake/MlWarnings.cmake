# Warnings for our own targets only (third-party headers come in as SYSTEM includes).
function(ml_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
                                           -Wconversion -Wno-sign-conversion)
  if(ML_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
