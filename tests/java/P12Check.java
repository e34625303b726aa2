// Loads a PKCS#12 keystore the way a Java application does, recovers the private key,
// signs with it and verifies the signature with the entry's certificate.
//
//   java tests/java/P12Check.java FILE ALIAS PASSWORD
//
// The password may also be given as "env:VAR" (read from the environment), which keeps
// non-ASCII passwords independent of how the JVM decodes its command line.
// Prints "OK alias=<alias> key=<algorithm> chain=<n>" and exits 0, or prints the
// exception and exits 1.

import java.io.FileInputStream;
import java.security.Key;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.Certificate;
import java.util.Collections;

public class P12Check {
    public static void main(String[] args) throws Exception {
        if (args.length != 3) {
            System.err.println("usage: java P12Check.java FILE ALIAS PASSWORD|env:VAR");
            System.exit(2);
        }
        String file = args[0];
        String alias = args[1];
        String pw = args[2];
        if (pw.startsWith("env:")) {
            pw = System.getenv(pw.substring(4));
            if (pw == null) {
                System.err.println("environment variable not set: " + args[2]);
                System.exit(2);
            }
        }
        char[] password = pw.toCharArray();
        try {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            try (FileInputStream in = new FileInputStream(file)) {
                ks.load(in, password);
            }
            if (!ks.isKeyEntry(alias)) {
                System.out.println("FAIL no key entry " + alias + " in " + Collections.list(ks.aliases()));
                System.exit(1);
            }
            Key key = ks.getKey(alias, password);
            Certificate[] chain = ks.getCertificateChain(alias);
            byte[] data = "certmint interop check".getBytes("UTF-8");
            Signature signer = Signature.getInstance("SHA256withRSA");
            signer.initSign((PrivateKey) key);
            signer.update(data);
            byte[] sig = signer.sign();
            Signature verifier = Signature.getInstance("SHA256withRSA");
            verifier.initVerify(chain[0]);
            verifier.update(data);
            if (!verifier.verify(sig)) {
                System.out.println("FAIL signature does not verify with the certificate");
                System.exit(1);
            }
            System.out.println("OK alias=" + alias + " key=" + key.getAlgorithm() + " chain=" + chain.length
                + " aliases=" + Collections.list(ks.aliases()));
        } catch (Exception e) {
            System.out.println("FAIL " + e);
            System.exit(1);
        }
    }
}
