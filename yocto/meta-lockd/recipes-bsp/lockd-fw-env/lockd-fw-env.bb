SUMMARY = "fw_env.config for a U-Boot environment in uboot.env on the boot partition"
DESCRIPTION = "Where fw_printenv, fw_setenv and lockd find the U-Boot \
environment: uboot.env on the FAT boot partition, mounted at /boot/firmware."
# The layer is part of lockd, and under its licence.
LICENSE = "Apache-2.0"
LIC_FILES_CHKSUM = "file://${COMMON_LICENSE_DIR}/Apache-2.0;md5=89aea4e17d99a7cacdbeed46a0096b10"

SRC_URI = "file://fw_env.config"
S = "${UNPACKDIR}"

inherit allarch

do_install() {
    install -d ${D}${sysconfdir}
    install -m 0644 ${S}/fw_env.config ${D}${sysconfdir}/fw_env.config
}

CONFFILES:${PN} = "${sysconfdir}/fw_env.config"
RDEPENDS:${PN} = "lockd-mounts"
