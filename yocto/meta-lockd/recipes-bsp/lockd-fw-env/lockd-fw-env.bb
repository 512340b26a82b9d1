SUMMARY = "fw_env.config for a U-Boot environment in uboot.env on the boot partition"
DESCRIPTION = "Where fw_printenv, fw_setenv and lockd find the U-Boot \
environment: uboot.env on the FAT boot partition, mounted at /boot/firmware."
LICENSE = "MIT"
LIC_FILES_CHKSUM = "file://${COMMON_LICENSE_DIR}/MIT;md5=0835ade698e0bcf8506ecda2f7b4f302"

SRC_URI = "file://fw_env.config"
S = "${UNPACKDIR}"

inherit allarch

do_install() {
    install -d ${D}${sysconfdir}
    install -m 0644 ${S}/fw_env.config ${D}${sysconfdir}/fw_env.config
}

CONFFILES:${PN} = "${sysconfdir}/fw_env.config"
RDEPENDS:${PN} = "lockd-mounts"
