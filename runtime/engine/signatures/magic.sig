# weir's MIME signatures: each format's published magic number (its
# specification or registration), matched at the start of a file's first
# bytes. The higher the strength, the more specific the match; a general
# text rule sits below every binary one.

signature weir-magic-png {
    file-magic /^\x89PNG\x0d\x0a\x1a\x0a/
    file-mime "image/png", 110
}

signature weir-magic-gif {
    file-magic /^GIF8[79]a/
    file-mime "image/gif", 70
}

signature weir-magic-jpeg {
    file-magic /^\xff\xd8\xff/
    file-mime "image/jpeg", 52
}

signature weir-magic-bmp {
    file-magic /^BM.{12}[\x0c\x28\x38\x40\x6c\x7c]\x00\x00\x00/
    file-mime "image/x-ms-bmp", 50
}

signature weir-magic-ico {
    file-magic /^\x00\x00\x01\x00[\x01-\x20]\x00/
    file-mime "image/x-icon", 10
}

signature weir-magic-pdf {
    file-magic /^%PDF-[0-9]/
    file-mime "application/pdf", 80
}

signature weir-magic-postscript {
    file-magic /^%!PS/
    file-mime "application/postscript", 70
}

signature weir-magic-zip {
    file-magic /^PK(\x03\x04|\x05\x06|\x07\x08)/
    file-mime "application/zip", 10
}

signature weir-magic-gzip {
    file-magic /^\x1f\x8b\x08/
    file-mime "application/x-gzip", 100
}

signature weir-magic-bzip2 {
    file-magic /^BZh[1-9]/
    file-mime "application/x-bzip2", 90
}

signature weir-magic-xz {
    file-magic /^\xfd7zXZ\x00/
    file-mime "application/x-xz", 90
}

signature weir-magic-7z {
    file-magic /^7z\xbc\xaf\x27\x1c/
    file-mime "application/x-7z-compressed", 90
}

signature weir-magic-rar {
    file-magic /^Rar!\x1a\x07/
    file-mime "application/x-rar", 90
}

signature weir-magic-cab {
    file-magic /^MSCF\x00\x00\x00\x00/
    file-mime "application/vnd.ms-cab-compressed", 110
}

signature weir-magic-dosexec {
    file-magic /^MZ/
    file-mime "application/x-dosexec", 51
}

signature weir-magic-elf {
    file-magic /^\x7fELF[\x01\x02]/
    file-mime "application/x-executable", 50
}

signature weir-magic-java {
    file-magic /^\xca\xfe\xba\xbe/
    file-mime "application/x-java-applet", 40
}

signature weir-magic-swf {
    file-magic /^[FCZ]WS/
    file-mime "application/x-shockwave-flash", 60
}

signature weir-magic-ole {
    file-magic /^\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1/
    file-mime "application/vnd.ms-office", 50
}

signature weir-magic-xml {
    file-magic /^(\xef\xbb\xbf)?[\x09\x0a\x0d ]*<\?xml[\x09\x0a\x0d ]/
    file-mime "application/xml", 10
}

signature weir-magic-html {
    file-magic /^(\xef\xbb\xbf)?[\x09\x0a\x0d ]*<(!doctype[\x09\x0a\x0d ]+html|html|head|body|title|script)[\x09\x0a\x0d >]/i
    file-mime "text/html", 100
}

signature weir-magic-json {
    file-magic /^[\x09\x0a\x0d ]*[\[{][\x09\x0a\x0d ]*[\x22\[{\]}0-9-]/
    file-mime "text/json", 1
}

signature weir-magic-text {
    file-magic /^[\x09\x0a\x0d\x20-\x7e]{8}/
    file-mime "text/plain", -20
}
