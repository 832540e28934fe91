; O2C Desktop for Windows: installs the PyInstaller folder dist\o2c-desktop.
;
;   makensis -DVERSION=0.1.0 -DDIST_DIR=dist\o2c-desktop -DOUT_FILE=dist\O2C-Desktop-0.1.0-setup.exe installer\windows\o2c-desktop.nsi
;
; (`python tools/dev.py package` runs it on Windows.) Per user by default, in
; %LOCALAPPDATA%\Programs, no administrator rights needed; "Run as
; administrator" installs for every user in Program Files. Installing again
; upgrades in place: the previous program files are replaced, the books and
; settings (%LOCALAPPDATA%\o2c-desktop) are kept. The uninstaller keeps them too
; unless "Remove my books and settings" is ticked.
; Signing: SIGN_CMD (from O2C_WINDOWS_SIGN_CMD, see installer/README.md) signs
; the installer and the uninstaller; without it they are left unsigned.

Unicode true
ManifestDPIAware true
RequestExecutionLevel user

!ifndef VERSION
  !error "Pass -DVERSION=x.y.z"
!endif
!ifndef DIST_DIR
  !define DIST_DIR "..\..\dist\o2c-desktop"
!endif
!ifndef OUT_FILE
  !define OUT_FILE "..\..\dist\O2C-Desktop-${VERSION}-setup.exe"
!endif

!define APP_NAME "O2C Desktop"
!define GUI_EXE "o2c-desktop.exe"
!define CLI_EXE "o2c.exe"
!define INTERNAL "_internal"
!define ICON_FILE "${INTERNAL}\o2c_desktop\resources\icons\o2c-desktop.ico"
!define PROG_ID "O2CDesktop.Spreadsheet"
!define UNINST_KEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\O2C Desktop"
!define DATA_DIR "$LOCALAPPDATA\o2c-desktop"

!ifdef FAST  ; a check of the script, not a release
  SetCompress off
!else
  SetCompressor /SOLID lzma
!endif

!include "MUI2.nsh"
!include "LogicLib.nsh"
!include "FileFunc.nsh"

Name "${APP_NAME}"
OutFile "${OUT_FILE}"
InstallDir "$LOCALAPPDATA\Programs\${APP_NAME}"
VIProductVersion "${VERSION}.0"
VIAddVersionKey "ProductName" "${APP_NAME}"
VIAddVersionKey "ProductVersion" "${VERSION}"
VIAddVersionKey "FileVersion" "${VERSION}"
VIAddVersionKey "FileDescription" "${APP_NAME} installer"
VIAddVersionKey "CompanyName" "O2C"
VIAddVersionKey "LegalCopyright" "O2C"

!ifdef SIGN_CMD
  !finalize '${SIGN_CMD} "%1"'
  !uninstfinalize '${SIGN_CMD} "%1"'
!endif

!define MUI_ICON "${DIST_DIR}\${ICON_FILE}"
!define MUI_UNICON "${DIST_DIR}\${ICON_FILE}"
!define MUI_ABORTWARNING
!define MUI_FINISHPAGE_RUN "$INSTDIR\${GUI_EXE}"

!insertmacro MUI_PAGE_DIRECTORY
!insertmacro MUI_PAGE_INSTFILES
!insertmacro MUI_PAGE_FINISH
!insertmacro MUI_UNPAGE_CONFIRM
!insertmacro MUI_UNPAGE_COMPONENTS
!insertmacro MUI_UNPAGE_INSTFILES
!insertmacro MUI_LANGUAGE "English"
!insertmacro MUI_LANGUAGE "French"

Var AllUsers

; Elevated (Run as administrator): every user, Program Files, HKLM.
; Otherwise: this user, %LOCALAPPDATA%\Programs, HKCU.
!macro ChooseScope
  StrCpy $AllUsers 0
  UserInfo::GetAccountType
  Pop $0
  ${If} $0 == "Admin"
    StrCpy $AllUsers 1
    SetShellVarContext all
  ${Else}
    SetShellVarContext current
  ${EndIf}
!macroend

Function .onInit
  !insertmacro ChooseScope
  ${If} $AllUsers == 1
    StrCpy $INSTDIR "$PROGRAMFILES64\${APP_NAME}"
  ${EndIf}
  ; An upgrade goes where the previous version is.
  ReadRegStr $0 SHCTX "${UNINST_KEY}" "InstallLocation"
  ${If} $0 != ""
    StrCpy $INSTDIR $0
  ${EndIf}
FunctionEnd

Function un.onInit
  !insertmacro ChooseScope
FunctionEnd

Section "O2C Desktop" SecApp
  SectionIn RO
  SetOutPath "$INSTDIR"
  ; A running copy holds its files open.
  ${DoUntil} 1 == 1
    ClearErrors
    Delete "$INSTDIR\${GUI_EXE}"
    ${IfNot} ${Errors}
      ${Break}
    ${EndIf}
    MessageBox MB_RETRYCANCEL|MB_ICONEXCLAMATION "Close O2C Desktop, then click Retry." IDRETRY +2
    Abort
  ${Loop}
  ; Upgrade in place: files of the previous version must not linger.
  RMDir /r "$INSTDIR\${INTERNAL}"
  File "${DIST_DIR}\${GUI_EXE}"
  File "${DIST_DIR}\${CLI_EXE}"
  File /r "${DIST_DIR}\${INTERNAL}"
  WriteUninstaller "$INSTDIR\uninstall.exe"

  CreateDirectory "$SMPROGRAMS\${APP_NAME}"
  CreateShortCut "$SMPROGRAMS\${APP_NAME}\${APP_NAME}.lnk" "$INSTDIR\${GUI_EXE}" "" "$INSTDIR\${ICON_FILE}"
  CreateShortCut "$SMPROGRAMS\${APP_NAME}\Uninstall ${APP_NAME}.lnk" "$INSTDIR\uninstall.exe"
  CreateShortCut "$DESKTOP\${APP_NAME}.lnk" "$INSTDIR\${GUI_EXE}" "" "$INSTDIR\${ICON_FILE}"

  ; "Open with O2C Desktop" for workbooks and CSV files (never the default).
  WriteRegStr SHCTX "Software\Classes\${PROG_ID}" "" "Aged balance (O2C Desktop)"
  WriteRegStr SHCTX "Software\Classes\${PROG_ID}\DefaultIcon" "" "$INSTDIR\${ICON_FILE}"
  WriteRegStr SHCTX "Software\Classes\${PROG_ID}\shell\open\command" "" '"$INSTDIR\${GUI_EXE}" "%1"'
  WriteRegStr SHCTX "Software\Classes\.xlsx\OpenWithProgids" "${PROG_ID}" ""
  WriteRegStr SHCTX "Software\Classes\.csv\OpenWithProgids" "${PROG_ID}" ""
  WriteRegStr SHCTX "Software\Classes\Applications\${GUI_EXE}\shell\open\command" "" '"$INSTDIR\${GUI_EXE}" "%1"'
  WriteRegStr SHCTX "Software\Classes\Applications\${GUI_EXE}\SupportedTypes" ".xlsx" ""
  WriteRegStr SHCTX "Software\Classes\Applications\${GUI_EXE}\SupportedTypes" ".csv" ""

  WriteRegStr SHCTX "${UNINST_KEY}" "DisplayName" "${APP_NAME}"
  WriteRegStr SHCTX "${UNINST_KEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr SHCTX "${UNINST_KEY}" "Publisher" "O2C"
  WriteRegStr SHCTX "${UNINST_KEY}" "DisplayIcon" "$INSTDIR\${ICON_FILE}"
  WriteRegStr SHCTX "${UNINST_KEY}" "InstallLocation" "$INSTDIR"
  WriteRegStr SHCTX "${UNINST_KEY}" "UninstallString" '"$INSTDIR\uninstall.exe"'
  WriteRegDWORD SHCTX "${UNINST_KEY}" "NoModify" 1
  WriteRegDWORD SHCTX "${UNINST_KEY}" "NoRepair" 1
  ${GetSize} "$INSTDIR" "/S=0K" $0 $1 $2
  WriteRegDWORD SHCTX "${UNINST_KEY}" "EstimatedSize" $0
  System::Call 'shell32::SHChangeNotify(i 0x08000000, i 0, p 0, p 0)'
SectionEnd

Section "un.O2C Desktop" UnSecApp
  SectionIn RO
  Delete "$INSTDIR\${GUI_EXE}"
  Delete "$INSTDIR\${CLI_EXE}"
  RMDir /r "$INSTDIR\${INTERNAL}"
  Delete "$INSTDIR\uninstall.exe"
  RMDir "$INSTDIR"  ; only if empty: nothing of the user's is in it
  Delete "$SMPROGRAMS\${APP_NAME}\${APP_NAME}.lnk"
  Delete "$SMPROGRAMS\${APP_NAME}\Uninstall ${APP_NAME}.lnk"
  RMDir "$SMPROGRAMS\${APP_NAME}"
  Delete "$DESKTOP\${APP_NAME}.lnk"
  DeleteRegKey SHCTX "Software\Classes\${PROG_ID}"
  DeleteRegValue SHCTX "Software\Classes\.xlsx\OpenWithProgids" "${PROG_ID}"
  DeleteRegValue SHCTX "Software\Classes\.csv\OpenWithProgids" "${PROG_ID}"
  DeleteRegKey SHCTX "Software\Classes\Applications\${GUI_EXE}"
  DeleteRegKey SHCTX "${UNINST_KEY}"
  System::Call 'shell32::SHChangeNotify(i 0x08000000, i 0, p 0, p 0)'
SectionEnd

; Unticked unless the user asks: the books, their backups and the settings.
Section /o "un.Remove my books and settings" UnSecData
  RMDir /r "${DATA_DIR}"
SectionEnd
