# Finds every dependency once, for all targets.

find_package(Torch REQUIRED)
# Torch's flags carry the C++ ABI choice (_GLIBCXX_USE_CXX11_ABI); every target must agree.
set(CMAKE_CXX_FLAGS "${CMAKE_CXX_FLAGS} ${TORCH_CXX_FLAGS}")
set(ATTNSCOPE_TORCH_CUDA OFF)
if(TORCH_CUDA_LIBRARIES OR CAFFE2_USE_CUDA OR TARGET torch_cuda)
  set(ATTNSCOPE_TORCH_CUDA ON)
endif()

# nlohmann-json: Debian ships a CMake package; elsewhere a header directory may be given
# with -DNLOHMANN_JSON_INCLUDE_DIR=...
find_package(nlohmann_json 3.9 QUIET)
if(NOT nlohmann_json_FOUND)
  find_path(NLOHMANN_JSON_INCLUDE_DIR nlohmann/json.hpp REQUIRED)
  add_library(nlohmann_json::nlohmann_json INTERFACE IMPORTED)
  set_target_properties(nlohmann_json::nlohmann_json PROPERTIES
                        INTERFACE_INCLUDE_DIRECTORIES ${NLOHMANN_JSON_INCLUDE_DIR})
endif()

# PCRE2 (8-bit) for the tokenizers' Unicode pre-tokenizer regexes.
find_path(PCRE2_INCLUDE_DIR pcre2.h REQUIRED)
find_library(PCRE2_LIBRARY NAMES pcre2-8 libpcre2-8.so.0 REQUIRED)
add_library(attnscope_pcre2 INTERFACE IMPORTED)
set_target_properties(attnscope_pcre2 PROPERTIES
                      INTERFACE_INCLUDE_DIRECTORIES ${PCRE2_INCLUDE_DIR}
                      INTERFACE_LINK_LIBRARIES ${PCRE2_LIBRARY}
                      INTERFACE_COMPILE_DEFINITIONS PCRE2_CODE_UNIT_WIDTH=8)

# utf8proc for the tokenizers' Unicode normalizers (NFC, NFKC) and character classes.
find_path(UTF8PROC_INCLUDE_DIR utf8proc.h REQUIRED)
find_library(UTF8PROC_LIBRARY NAMES utf8proc REQUIRED)
add_library(attnscope_utf8proc INTERFACE IMPORTED)
set_target_properties(attnscope_utf8proc PROPERTIES
                      INTERFACE_INCLUDE_DIRECTORIES ${UTF8PROC_INCLUDE_DIR}
                      INTERFACE_LINK_LIBRARIES ${UTF8PROC_LIBRARY})

find_package(Threads REQUIRED)

set(ATTNSCOPE_HAVE_GUI_DEPS OFF)
set(ATTNSCOPE_HAVE_QTTEST OFF)
if(ATTNSCOPE_BUILD_GUI OR ATTNSCOPE_BUILD_TESTS)
  find_package(Qt6 6.2 QUIET COMPONENTS Core Gui Widgets Test Svg PrintSupport)
  if(Qt6Test_FOUND)
    set(ATTNSCOPE_HAVE_QTTEST ON)
  endif()
  if(Qt6Widgets_FOUND AND Qt6Svg_FOUND AND Qt6PrintSupport_FOUND)
    # QCustomPlot's CMake package must be found after Qt6.
    find_package(QCustomPlotQt6 QUIET)
    if(QCustomPlotQt6_FOUND)
      set(ATTNSCOPE_HAVE_GUI_DEPS ON)
    endif()
  endif()
endif()
