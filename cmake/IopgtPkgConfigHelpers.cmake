# iopgt_install_pkgconfig(TEMPLATE)
#
# Installs TEMPLATE (cmake/NAME.pc.in) as ${CMAKE_INSTALL_LIBDIR}/pkgconfig/
# NAME.pc.  The prefix= line is written at install time from the prefix
# actually installed to, so `cmake --install build --prefix DIR` gives a .pc
# that points into DIR; every other path in the file is relative to
# ${prefix}.  DESTDIR is honoured and never written into the file.
#
# Templates use @IOPGT_PC_PREFIX@, @IOPGT_PC_LIBDIR@, @IOPGT_PC_INCLUDEDIR@,
# @IOPGT_PC_PLUGINDIR@, @IOPGT_PC_DATADIR@ (share/iopgt) (pkg-config
# expressions over ${prefix}), and any
# configure-time variable (@PROJECT_VERSION@, @IOPGT_ABI_MAJOR@, ...).

# A path under the prefix as a pkg-config expression; absolute stays.
function(_iopgt_pc_path out var base)
  if(IS_ABSOLUTE "${${var}}")
    set(${out} "${${var}}" PARENT_SCOPE)
  else()
    set(${out} "${base}/${${var}}" PARENT_SCOPE)
  endif()
endfunction()

function(iopgt_install_pkgconfig template)
  get_filename_component(name ${template} NAME)
  string(REGEX REPLACE "\\.in$" "" name "${name}")
  _iopgt_pc_path(IOPGT_PC_LIBDIR CMAKE_INSTALL_LIBDIR "\${exec_prefix}")
  _iopgt_pc_path(IOPGT_PC_INCLUDEDIR CMAKE_INSTALL_INCLUDEDIR "\${prefix}")
  _iopgt_pc_path(IOPGT_PC_PLUGINDIR IOPGT_PLUGIN_SUBDIR "\${prefix}")
  _iopgt_pc_path(IOPGT_PC_DATADIR IOPGT_DATA_SUBDIR "\${prefix}")
  # Stage 1, now: everything but the prefix, which stays a placeholder.
  set(IOPGT_PC_PREFIX "@IOPGT_PC_PREFIX@")
  set(staged ${CMAKE_BINARY_DIR}/pkgconfig/${name}.in)
  configure_file(${template} ${staged} @ONLY)
  if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
    set(dest "${CMAKE_INSTALL_LIBDIR}/pkgconfig")
  else()
    set(dest "\${IOPGT_PC_PREFIX}/${CMAKE_INSTALL_LIBDIR}/pkgconfig")
  endif()
  # Stage 2, at install time: the prefix being installed to.
  install(CODE "
    get_filename_component(IOPGT_PC_PREFIX \"\${CMAKE_INSTALL_PREFIX}\" ABSOLUTE)
    set(_iopgt_pc \"\$ENV{DESTDIR}${dest}/${name}\")
    message(STATUS \"Installing: \${_iopgt_pc}\")
    configure_file(\"${staged}\" \"\${_iopgt_pc}\" @ONLY)
    list(APPEND CMAKE_INSTALL_MANIFEST_FILES \"\${_iopgt_pc}\")
  ")
endfunction()
